// Permit rules: the moves of a residence permit, and the permits in force.
#include "services/protection/permit_rules.h"

#include <cmath>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "storage/timestamps.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;

constexpr size_t kMaxText = 200;

std::string Name(v1::PermitStatus status) {
  return v1::PermitStatus_Name(status).substr(std::string("PERMIT_STATUS_").size());
}

}  // namespace

absl::Status CheckPermitMove(v1::PermitStatus from, v1::PermitStatus to) {
  const bool allowed =
      (from == v1::PERMIT_STATUS_APPLIED &&
       (to == v1::PERMIT_STATUS_GRANTED || to == v1::PERMIT_STATUS_REFUSED ||
        to == v1::PERMIT_STATUS_WITHDRAWN)) ||
      (from == v1::PERMIT_STATUS_GRANTED && to == v1::PERMIT_STATUS_WITHDRAWN);
  if (allowed) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "a permit cannot move from ", Name(from), " to ", Name(to),
      ": an application is granted, refused or withdrawn; a granted permit can only be "
      "withdrawn; a renewal is a new application that names the permit it renews"));
}

absl::Status CheckPermit(const v1::ResidencePermit& permit, absl::Time now) {
  if (!v1::PermitType_IsValid(permit.type()) || permit.type() == v1::PERMIT_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "type must be reflection, temporary for victims, humanitarian or permanent");
  }
  for (const auto& [value, field] :
       {std::make_pair(permit.document_number(), "document_number"),
        std::make_pair(permit.issuing_authority(), "issuing_authority")}) {
    if (value.size() > kMaxText) {
      return absl::InvalidArgumentError(absl::StrCat(field, " has at most ", kMaxText, " bytes"));
    }
  }
  for (const auto& [time, field] :
       {std::make_pair(&permit.apply_time(), "apply_time"),
        std::make_pair(&permit.decide_time(), "decide_time")}) {
    if (time->seconds() != 0 && FromTimestamp(*time) > now + absl::Minutes(5)) {
      return absl::InvalidArgumentError(absl::StrCat(field, " must not be in the future"));
    }
  }
  if (permit.status() == v1::PERMIT_STATUS_GRANTED) {
    if (permit.type() != v1::PERMIT_TYPE_PERMANENT && !permit.has_expire_time()) {
      return absl::InvalidArgumentError("expire_time is required for a granted permit");
    }
    if (permit.has_expire_time() && permit.has_valid_from() &&
        FromTimestamp(permit.expire_time()) <= FromTimestamp(permit.valid_from())) {
      return absl::InvalidArgumentError("expire_time must be after valid_from");
    }
  }
  return absl::OkStatus();
}

std::vector<v1::ResidencePermit> AsOf(std::vector<v1::ResidencePermit> permits, absl::Time now) {
  std::set<std::string> renewed;
  for (const v1::ResidencePermit& p : permits) {
    if (p.status() == v1::PERMIT_STATUS_GRANTED && !p.renews_permit_id().empty()) {
      renewed.insert(p.renews_permit_id());
    }
  }
  for (v1::ResidencePermit& p : permits) {
    p.set_in_force(p.status() == v1::PERMIT_STATUS_GRANTED && renewed.count(p.id()) == 0);
    p.clear_days_left();
    if (p.in_force() && p.has_expire_time()) {
      p.set_days_left(static_cast<int>(
          std::floor(absl::FDivDuration(FromTimestamp(p.expire_time()) - now, absl::Hours(24)))));
    }
  }
  return permits;
}

std::optional<absl::Time> FirstExpiry(const std::vector<v1::ResidencePermit>& permits) {
  std::optional<absl::Time> first;
  for (const v1::ResidencePermit& p : permits) {
    if (!p.in_force() || !p.has_expire_time()) continue;
    const absl::Time expiry = FromTimestamp(p.expire_time());
    if (!first.has_value() || expiry < *first) first = expiry;
  }
  return first;
}

}  // namespace haven::protection
