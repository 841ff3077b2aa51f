// HSDS JSON: the writer and the checking reader (see hsds_json.h).
#include "services/protection/hsds_json.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace haven::protection::hsds {
namespace {

using google::protobuf::Value;

void AppendEscaped(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(out, "\\u%04x", byte);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// How deeply arrays and objects nest in `json`, outside strings; stops counting past `limit`.
int NestingDepth(absl::string_view json, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (level_has_items_.empty()) return;
  if (level_has_items_.back()) out_.push_back(',');
  level_has_items_.back() = true;
}

void JsonWriter::Open(char bracket) {
  BeforeValue();
  out_.push_back(bracket);
  level_has_items_.push_back(false);
}

void JsonWriter::Close(char bracket) {
  level_has_items_.pop_back();
  out_.push_back(bracket);
}

void JsonWriter::BeginObject() { Open('{'); }
void JsonWriter::EndObject() { Close('}'); }
void JsonWriter::BeginArray() { Open('['); }
void JsonWriter::EndArray() { Close(']'); }

void JsonWriter::Key(absl::string_view key) {
  BeforeValue();
  AppendEscaped(key, &out_);
  out_.push_back(':');
  after_key_ = true;
}

void JsonWriter::String(absl::string_view text) {
  BeforeValue();
  AppendEscaped(text, &out_);
}

void JsonWriter::Int(int64_t number) {
  BeforeValue();
  absl::StrAppend(&out_, number);
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
}

void JsonWriter::Field(absl::string_view key, absl::string_view text) {
  Key(key);
  String(text);
}

void JsonWriter::Field(absl::string_view key, int64_t number) {
  Key(key);
  Int(number);
}

void JsonWriter::FieldIfSet(absl::string_view key, absl::string_view text) {
  if (!text.empty()) Field(key, text);
}

std::string JsonWriter::Take() {
  out_.push_back('\n');
  return std::move(out_);
}

void Problems::Add(absl::string_view path, absl::string_view what) {
  if (first_.ok()) first_ = absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::StatusOr<Value> ParseJson(absl::string_view json, size_t max_bytes, int max_depth) {
  if (json.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("document: larger than ", max_bytes >> 20,
                                                   " MiB; split the directory or trim it"));
  }
  if (NestingDepth(json, max_depth) > max_depth) {
    return absl::InvalidArgumentError(
        absl::StrCat("document: arrays and objects nest deeper than ", max_depth,
                     " levels, more than HSDS needs; check the document's structure"));
  }
  Value value;
  const google::protobuf::StringPiece text(json.data(), json.size());
  if (!google::protobuf::util::JsonStringToMessage(text, &value).ok()) {
    return absl::InvalidArgumentError(
        "document: not valid JSON; check its brackets, commas, quotes and UTF-8");
  }
  return value;
}

JsonRecord::JsonRecord(const google::protobuf::Struct* fields, std::string path, Problems* problems)
    : fields_(fields), path_(std::move(path)), problems_(problems) {}

std::string JsonRecord::FieldPath(absl::string_view key) const {
  return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
}

bool JsonRecord::Has(absl::string_view key) const {
  const auto found = fields_->fields().find(std::string(key));
  return found != fields_->fields().end() && found->second.kind_case() != Value::kNullValue;
}

void JsonRecord::Fail(absl::string_view key, absl::string_view what) const {
  problems_->Add(FieldPath(key), what);
}

const Value* JsonRecord::Find(absl::string_view key, Presence presence) const {
  if (!Has(key)) {
    if (presence == Presence::kRequired) Fail(key, "required but missing; add it");
    return nullptr;
  }
  return &fields_->fields().at(std::string(key));
}

const Value* JsonRecord::FindOfKind(absl::string_view key, Presence presence, Value::KindCase kind,
                                    absl::string_view kind_name) const {
  const Value* value = Find(key, presence);
  if (value == nullptr || value->kind_case() == kind) return value;
  Fail(key, absl::StrCat("must be ", kind_name));
  return nullptr;
}

std::string JsonRecord::String(absl::string_view key, Presence presence) const {
  const Value* value = FindOfKind(key, presence, Value::kStringValue, "a string");
  return value == nullptr ? "" : value->string_value();
}

std::string JsonRecord::Formatted(absl::string_view key, Presence presence,
                                  bool (*check)(absl::string_view), absl::string_view rule) const {
  std::string text = String(key, presence);
  if (text.empty() && !Has(key)) return text;
  if (!check(text)) {
    Fail(key, absl::StrCat("must be ", rule));
    return "";
  }
  return text;
}

std::string JsonRecord::OneOf(absl::string_view key, Presence presence,
                              const std::vector<absl::string_view>& allowed) const {
  std::string text = String(key, presence);
  if (!Has(key)) return text;
  for (absl::string_view choice : allowed) {
    if (text == choice) return text;
  }
  Fail(key, absl::StrCat("must be one of ", absl::StrJoin(allowed, ", ")));
  return "";
}

std::optional<int> JsonRecord::Count(absl::string_view key, Presence presence) const {
  const Value* value = FindOfKind(key, presence, Value::kNumberValue, "a number");
  if (value == nullptr) return std::nullopt;
  const double number = value->number_value();
  if (number < 0) {
    Fail(key, "must not be negative");
    return std::nullopt;
  }
  if (number != std::floor(number) || number > std::numeric_limits<int32_t>::max()) {
    Fail(key, "must be a whole number below 2^31");
    return std::nullopt;
  }
  return static_cast<int>(number);
}

std::optional<bool> JsonRecord::Bool(absl::string_view key, Presence presence) const {
  const Value* value = FindOfKind(key, presence, Value::kBoolValue, "true or false");
  if (value == nullptr) return std::nullopt;
  return value->bool_value();
}

std::optional<JsonRecord> JsonRecord::Record(absl::string_view key, Presence presence) const {
  const Value* value = FindOfKind(key, presence, Value::kStructValue, "an object");
  if (value == nullptr) return std::nullopt;
  return JsonRecord(&value->struct_value(), FieldPath(key), problems_);
}

std::vector<JsonRecord> JsonRecord::Records(absl::string_view key) const {
  std::vector<JsonRecord> records;
  const Value* value = FindOfKind(key, Presence::kOptional, Value::kListValue, "an array");
  if (value == nullptr) return records;
  const auto& items = value->list_value().values();
  records.reserve(items.size());
  for (int i = 0; i < items.size(); ++i) {
    const std::string item_path = absl::StrCat(FieldPath(key), "[", i, "]");
    if (items[i].kind_case() != Value::kStructValue) {
      problems_->Add(item_path, "must be an object");
      continue;
    }
    records.emplace_back(&items[i].struct_value(), item_path, problems_);
  }
  return records;
}

}  // namespace haven::protection::hsds
