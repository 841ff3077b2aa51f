// Redaction: clears every field whose confidentiality class the caller may
// not see, from the field options.
#include "storage/access/redaction.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "haven/v1/common.pb.h"

namespace haven::access {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsMessage(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
}

// Visits the set fields of `message`; for classified ones calls
// on_classified, for unclassified messages recurses.
template <typename OnClassified, typename OnUnclassifiedScalar>
void Walk(Message* message, OnClassified on_classified, OnUnclassifiedScalar on_unclassified) {
  const Reflection* r = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(*message, &fields);
  for (const FieldDescriptor* f : fields) {
    haven::v1::ConfidentialityClass c = ClassOf(f);
    if (c != haven::v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) {
      on_classified(message, f, c);
    } else if (IsMessage(f)) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(*message, f); ++i) {
          Walk(r->MutableRepeatedMessage(message, f, i), on_classified, on_unclassified);
        }
      } else {
        Walk(r->MutableMessage(message, f), on_classified, on_unclassified);
      }
    } else {
      on_unclassified(message, f);
    }
  }
}

void AllClassesUnder(const Descriptor* type, ClassSet* out, int depth) {
  if (depth > 16) return;  // recursive message types
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    haven::v1::ConfidentialityClass c = ClassOf(f);
    if (c != haven::v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) {
      out->Add(c);
    } else if (IsMessage(f)) {
      AllClassesUnder(f->message_type(), out, depth + 1);
    }
  }
}

}  // namespace

haven::v1::ConfidentialityClass ClassOf(const FieldDescriptor* field) {
  return field->options().GetExtension(haven::v1::confidentiality);
}

ClassSet Redact(Message* message, ClassSet visible) {
  message->DiscardUnknownFields();  // recursive
  ClassSet disclosed;
  Walk(
      message,
      [&](Message* m, const FieldDescriptor* f, haven::v1::ConfidentialityClass c) {
        if (visible.Contains(c)) {
          disclosed.Add(c);
        } else {
          m->GetReflection()->ClearField(m, f);
        }
      },
      [](Message* m, const FieldDescriptor* f) { m->GetReflection()->ClearField(m, f); });
  return disclosed;
}

std::string SerializeKnownFields(const Message& message) {
  std::unique_ptr<Message> copy(message.New());
  copy->CopyFrom(message);
  copy->DiscardUnknownFields();
  return copy->SerializeAsString();
}

ClassSet ClassesPresent(const Message& message) {
  ClassSet present;
  // Walk needs a mutable message but changes nothing here.
  std::unique_ptr<Message> copy(message.New());
  copy->CopyFrom(message);
  Walk(
      copy.get(),
      [&](Message*, const FieldDescriptor*, haven::v1::ConfidentialityClass c) { present.Add(c); },
      [](Message*, const FieldDescriptor*) {});
  return present;
}

absl::StatusOr<ClassSet> ClassesOfPaths(const Descriptor* type,
                                        const google::protobuf::FieldMask& mask) {
  ClassSet classes;
  for (const std::string& path : mask.paths()) {
    const Descriptor* current = type;
    bool done = false;
    for (absl::string_view part : absl::StrSplit(path, '.')) {
      const FieldDescriptor* f =
          current == nullptr ? nullptr : current->FindFieldByName(std::string(part));
      if (f == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("update_mask path \"", path, "\" does not name a field"));
      }
      haven::v1::ConfidentialityClass c = ClassOf(f);
      if (!done && c != haven::v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) {
        classes.Add(c);
        done = true;  // everything below has this field's class
      }
      current = IsMessage(f) ? f->message_type() : nullptr;
    }
    if (!done && current != nullptr) AllClassesUnder(current, &classes, 0);
  }
  return classes;
}

}  // namespace haven::access
