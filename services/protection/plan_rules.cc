// Plan rules: the moves of a plan item, as a table, and what a referral's answer means for it.
#include "services/protection/plan_rules.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "storage/ids.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;

constexpr size_t kMaxNeed = 4000;

std::string Name(v1::PlanItemStatus status) {
  std::string name = v1::PlanItemStatus_Name(status);
  return name.substr(std::string("PLAN_ITEM_STATUS_").size());
}

}  // namespace

bool IsFinished(v1::PlanItemStatus status) {
  return status == v1::PLAN_ITEM_STATUS_DELIVERED || status == v1::PLAN_ITEM_STATUS_DECLINED ||
         status == v1::PLAN_ITEM_STATUS_CANCELLED;
}

absl::Status CheckItemMove(v1::PlanItemStatus from, v1::PlanItemStatus to) {
  struct Move {
    v1::PlanItemStatus from;
    v1::PlanItemStatus to;
  };
  static constexpr Move kAllowed[] = {
      // Delivered without a referral: by the case's own organisation, or
      // arranged outside Haven.
      {v1::PLAN_ITEM_STATUS_PLANNED, v1::PLAN_ITEM_STATUS_DELIVERED},
      {v1::PLAN_ITEM_STATUS_PLANNED, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::PLAN_ITEM_STATUS_PLANNED, v1::PLAN_ITEM_STATUS_CANCELLED},
      {v1::PLAN_ITEM_STATUS_REFERRED, v1::PLAN_ITEM_STATUS_DELIVERED},
      {v1::PLAN_ITEM_STATUS_REFERRED, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::PLAN_ITEM_STATUS_REFERRED, v1::PLAN_ITEM_STATUS_CANCELLED},
      {v1::PLAN_ITEM_STATUS_IN_PROGRESS, v1::PLAN_ITEM_STATUS_DELIVERED},
      {v1::PLAN_ITEM_STATUS_IN_PROGRESS, v1::PLAN_ITEM_STATUS_DECLINED},
      {v1::PLAN_ITEM_STATUS_IN_PROGRESS, v1::PLAN_ITEM_STATUS_CANCELLED},
  };
  for (const Move& m : kAllowed) {
    if (m.from == from && m.to == to) return absl::OkStatus();
  }
  const std::string move = absl::StrCat("a plan item cannot move from ", Name(from), " to ", Name(to));
  if (IsFinished(from)) {
    return absl::FailedPreconditionError(
        absl::StrCat(move, ": a delivered, declined or cancelled item is final; add a new one"));
  }
  if (to == v1::PLAN_ITEM_STATUS_REFERRED) {
    return absl::FailedPreconditionError(
        absl::StrCat(move, ": an item is referred by ReferPlanItem, once, from PLANNED"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(move, ": an item moves forward, or is declined or cancelled"));
}

v1::PlanItemStatus StatusOf(const v1::PlanItem& item, const std::optional<v1::Referral>& referral) {
  if (item.status() != v1::PLAN_ITEM_STATUS_REFERRED || !referral.has_value()) {
    return item.status();
  }
  switch (referral->status()) {
    case v1::REFERRAL_STATUS_ACCEPTED:
      return v1::PLAN_ITEM_STATUS_IN_PROGRESS;
    case v1::REFERRAL_STATUS_COMPLETED:
      return v1::PLAN_ITEM_STATUS_DELIVERED;
    case v1::REFERRAL_STATUS_DECLINED:
    case v1::REFERRAL_STATUS_EXPIRED:
      return v1::PLAN_ITEM_STATUS_DECLINED;
    case v1::REFERRAL_STATUS_CANCELLED:
      return v1::PLAN_ITEM_STATUS_CANCELLED;
    default:
      return v1::PLAN_ITEM_STATUS_REFERRED;
  }
}

bool IsOverdue(const v1::PlanItem& item, absl::Time now) {
  return item.has_due_time() && !IsFinished(item.status()) &&
         absl::FromUnixSeconds(item.due_time().seconds()) < now;
}

v1::ReferralPurpose PurposeFor(v1::ServiceKind kind) {
  switch (kind) {
    case v1::SERVICE_KIND_SHELTER:
    case v1::SERVICE_KIND_HOUSING:
      return v1::REFERRAL_PURPOSE_SHELTER;
    case v1::SERVICE_KIND_MEDICAL:
      return v1::REFERRAL_PURPOSE_MEDICAL;
    case v1::SERVICE_KIND_PSYCHOLOGICAL:
      return v1::REFERRAL_PURPOSE_PSYCHOLOGICAL;
    case v1::SERVICE_KIND_LEGAL_AID:
      return v1::REFERRAL_PURPOSE_LEGAL_AID;
    case v1::SERVICE_KIND_INTERPRETATION:
      return v1::REFERRAL_PURPOSE_INTERPRETATION;
    default:
      return v1::REFERRAL_PURPOSE_REINTEGRATION;
  }
}

absl::Status CheckPlannedItem(const v1::PlanItem& item) {
  if (!v1::ServiceKind_IsValid(item.kind()) || item.kind() == v1::SERVICE_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("kind must say what help is needed (shelter, medical, ...)");
  }
  if (item.need().size() > kMaxNeed) {
    return absl::InvalidArgumentError(absl::StrCat("need has at most ", kMaxNeed, " bytes"));
  }
  if (!item.provider_organisation_id().empty()) {
    if (absl::Status s = ParseId(item.provider_organisation_id(), "provider_organisation_id").status();
        !s.ok()) {
      return s;
    }
  }
  if (!item.provider_service_id().empty()) {
    if (item.provider_organisation_id().empty()) {
      return absl::InvalidArgumentError(
          "provider_service_id needs provider_organisation_id, the service's provider");
    }
    if (absl::Status s = ParseId(item.provider_service_id(), "provider_service_id").status(); !s.ok()) {
      return s;
    }
  }
  if (item.has_due_time() && (item.due_time().seconds() <= 0 || item.due_time().nanos() < 0)) {
    return absl::InvalidArgumentError("due_time must be a real time");
  }
  return absl::OkStatus();
}

}  // namespace haven::protection
