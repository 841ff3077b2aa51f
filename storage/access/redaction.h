// Redaction: clears, in any message, every field whose confidentiality
// class (the proto field option) the caller may not see.
//
// The rule: a field with a class is kept or cleared whole; a message field
// without one is walked into; any other field without one is cleared, so
// that a field someone forgot to classify is never disclosed.
#ifndef HAVEN_STORAGE_ACCESS_REDACTION_H_
#define HAVEN_STORAGE_ACCESS_REDACTION_H_

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"
#include "storage/access/policy.h"

namespace haven::access {

// The class a field carries, or CONFIDENTIALITY_CLASS_UNSPECIFIED.
haven::v1::ConfidentialityClass ClassOf(const google::protobuf::FieldDescriptor* field);

// Clears what `visible` does not cover, and every unknown field (which has
// no class), in nested, repeated and map fields too; returns the classes of
// the fields still set afterwards (what is disclosed).
ClassSet Redact(google::protobuf::Message* message, ClassSet visible);

// The bytes to seal or store for `message`: its known fields only, so that
// nothing a caller smuggled in fields this server does not know is kept.
std::string SerializeKnownFields(const google::protobuf::Message& message);

// The classes of the fields that are set.
ClassSet ClassesPresent(const google::protobuf::Message& message);

// The classes a field mask reaches in messages of type `type`;
// INVALID_ARGUMENT naming the path when a path does not exist.
absl::StatusOr<ClassSet> ClassesOfPaths(const google::protobuf::Descriptor* type,
                                        const google::protobuf::FieldMask& mask);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_REDACTION_H_
