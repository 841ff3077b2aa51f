// Policy: who may do what to a case, and which confidentiality classes they
// may see. Pure functions of the principal, the case and its grants; deny by
// default.
#ifndef HAVEN_STORAGE_ACCESS_POLICY_H_
#define HAVEN_STORAGE_ACCESS_POLICY_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/records.pb.h"
#include "storage/access/principal.h"

namespace haven::access {

// A set of confidentiality classes, one bit per enum value.
class ClassSet {
 public:
  constexpr ClassSet() = default;
  static ClassSet All();
  static ClassSet Of(std::initializer_list<haven::v1::ConfidentialityClass> classes);
  void Add(haven::v1::ConfidentialityClass c) { bits_ |= Bit(c); }
  bool Contains(haven::v1::ConfidentialityClass c) const { return (bits_ & Bit(c)) != 0; }
  bool ContainsAll(ClassSet other) const { return (bits_ & other.bits_) == other.bits_; }
  bool empty() const { return bits_ == 0; }
  ClassSet operator|(ClassSet o) const { return ClassSet(bits_ | o.bits_); }
  ClassSet operator&(ClassSet o) const { return ClassSet(bits_ & o.bits_); }
  bool operator==(ClassSet o) const { return bits_ == o.bits_; }
  // In enum order.
  std::vector<haven::v1::ConfidentialityClass> ToVector() const;
  std::string DebugString() const;

 private:
  constexpr explicit ClassSet(uint32_t bits) : bits_(bits) {}
  static constexpr uint32_t Bit(haven::v1::ConfidentialityClass c) {
    return 1u << static_cast<int>(c);
  }
  uint32_t bits_ = 0;
};

struct CaseDecision {
  bool allowed = false;
  // What the caller may see (and write) on this case when allowed.
  ClassSet classes;
};

// May `principal` take `action` on the case `record`, given the case's
// grants, at `now`? Erased cases allow nothing.
CaseDecision DecideCaseAccess(const Principal& principal, haven::v1::CaseAction action,
                              const haven::v1::CaseRecord& record,
                              absl::Span<const haven::v1::GrantRecord> grants, absl::Time now);

// The classes a principal may write when opening a case in its own
// organisation; empty when it may not open cases at all.
ClassSet ClassesForNewCase(const Principal& principal);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_POLICY_H_
