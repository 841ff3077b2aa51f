// HSDS JSON: a writer that gives the same bytes for the same calls, and a reader of JSON
// objects that checks each field's presence, type and format, naming the field's path and
// never its value when one fails.
#ifndef HAVEN_SERVICES_PROTECTION_HSDS_JSON_H_
#define HAVEN_SERVICES_PROTECTION_HSDS_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace haven::protection::hsds {

// Compact JSON (no spaces, one final newline), keys in the order written.
class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(absl::string_view key);
  void String(absl::string_view text);
  void Int(int64_t number);
  void Bool(bool value);
  // A key and its value in one call.
  void Field(absl::string_view key, absl::string_view text);
  void Field(absl::string_view key, int64_t number);
  // The key and text only when the text is not empty.
  void FieldIfSet(absl::string_view key, absl::string_view text);
  std::string Take();

 private:
  void BeforeValue();
  void Open(char bracket);
  void Close(char bracket);

  std::string out_;
  std::vector<bool> level_has_items_;
  bool after_key_ = false;
};

// The first problem found in a document: INVALID_ARGUMENT "<path>: <what>".
class Problems {
 public:
  void Add(absl::string_view path, absl::string_view what);
  bool any() const { return !first_.ok(); }
  const absl::Status& first() const { return first_; }

 private:
  absl::Status first_;
};

// Parses `json` into a JSON value: INVALID_ARGUMENT, naming no content, when it is larger
// than `max_bytes`, nests deeper than `max_depth` or is not JSON.
absl::StatusOr<google::protobuf::Value> ParseJson(absl::string_view json, size_t max_bytes,
                                                  int max_depth);

enum class Presence { kRequired, kOptional };

// A JSON object at a path ("contents[2].services[0]") in a document. Reads note their
// problems and return an empty value; a null field counts as absent.
class JsonRecord {
 public:
  JsonRecord(const google::protobuf::Struct* fields, std::string path, Problems* problems);

  const std::string& path() const { return path_; }
  std::string FieldPath(absl::string_view key) const;
  bool Has(absl::string_view key) const;
  // Notes a problem with a field: "<path>.<key>: <what>".
  void Fail(absl::string_view key, absl::string_view what) const;

  std::string String(absl::string_view key, Presence presence) const;
  // A string that `check` accepts; `rule` says what it must be ("an e-mail address").
  std::string Formatted(absl::string_view key, Presence presence, bool (*check)(absl::string_view),
                        absl::string_view rule) const;
  // One of `allowed`.
  std::string OneOf(absl::string_view key, Presence presence,
                    const std::vector<absl::string_view>& allowed) const;
  // A whole number from 0 to 2^31-1.
  std::optional<int> Count(absl::string_view key, Presence presence) const;
  std::optional<bool> Bool(absl::string_view key, Presence presence) const;
  // A nested object.
  std::optional<JsonRecord> Record(absl::string_view key, Presence presence) const;
  // An array of objects; empty when absent.
  std::vector<JsonRecord> Records(absl::string_view key) const;

 private:
  const google::protobuf::Value* Find(absl::string_view key, Presence presence) const;
  // The field when it has `kind`; notes "must be <kind_name>" when it has another.
  const google::protobuf::Value* FindOfKind(absl::string_view key, Presence presence,
                                            google::protobuf::Value::KindCase kind,
                                            absl::string_view kind_name) const;

  const google::protobuf::Struct* fields_;
  std::string path_;
  Problems* problems_;
};

}  // namespace haven::protection::hsds

#endif  // HAVEN_SERVICES_PROTECTION_HSDS_JSON_H_
