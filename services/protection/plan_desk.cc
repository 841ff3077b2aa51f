// PlanDesk: a case's service plan, its approval, referral and delivery, through the CaseDoor.
#include "services/protection/plan_desk.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "services/common/handler.h"
#include "services/protection/plan_rules.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::CaseWriter;
using access::RecordKind;

constexpr int kMaxItems = 100;
constexpr size_t kMaxOutcome = 4000;

absl::Status ItemNotFound() { return absl::NotFoundError("plan item not found"); }

bool OwnsCase(const CaseScope& scope) {
  return scope.record().owning_organisation_id() == scope.context().principal.organisation_id;
}

absl::Status OwnersOnly() {
  return absl::PermissionDeniedError("only the case's own organisation plans its services");
}

std::string KindName(v1::ServiceKind kind) {
  return v1::ServiceKind_Name(kind).substr(std::string("SERVICE_KIND_").size());
}

absl::StatusOr<v1::ServicePlan> LoadHeader(CaseScope& scope) {
  v1::ServicePlan header;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kServicePlan, "", &header);
  if (!found.ok()) return found.status();
  return header;
}

// A new version of the plan, by the caller, now; approval lapses.
absl::Status SaveNewVersion(CaseScope& scope, v1::ServicePlan header, absl::string_view what) {
  header.set_version(header.version() + 1);
  header.set_changed_by(scope.context().principal.id);
  *header.mutable_change_time() = ToTimestamp(scope.now());
  if (absl::Status s = scope.Save(RecordKind::kServicePlan, "", header); !s.ok()) return s;
  return scope.AppendTimeline(v1::TIMELINE_EVENT_PLAN_CHANGED,
                              absl::StrCat("service plan version ", header.version(), ": ", what));
}

// The item `item_id` of the case, if the caller may know of it: any item
// for the owning organisation, only its own for a provider.
absl::StatusOr<v1::PlanItem> LoadItem(CaseScope& scope, absl::string_view item_id,
                                      std::string* raw_id) {
  absl::StatusOr<std::string> raw = ParseId(item_id, "item_id");
  if (!raw.ok()) return raw.status();
  v1::PlanItem item;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kPlanItem, *raw, &item);
  if (!found.ok()) return found.status();
  if (!*found) return ItemNotFound();
  if (!OwnsCase(scope) &&
      item.provider_organisation_id() != scope.context().principal.organisation_id) {
    return ItemNotFound();
  }
  *raw_id = *std::move(raw);
  return item;
}

// The item's referral as it stands now; nullopt when it has none.
std::optional<v1::Referral> ReferralNow(CaseWriter& scope, const v1::PlanItem& item) {
  if (item.referral_id().empty()) return std::nullopt;
  absl::StatusOr<v1::Referral> found = scope.FindReferral(item.referral_id());
  if (!found.ok()) return std::nullopt;
  return referral::AsOf(*std::move(found), scope.now());
}

// The item's status as it stands, following its referral.
v1::PlanItemStatus StatusNow(CaseWriter& scope, const v1::PlanItem& item) {
  return StatusOf(item, ReferralNow(scope, item));
}

// Keeps what the case's plan makes due right, from its items' administrative
// fields as they stand: the plan-item watch on the first due time of an item
// not finished (its caseworkers are alerted and it is listed when due), and
// the directory services that items planned, or referred and not yet
// accepted, wait on, until the referral's answer is due (a shelter that fills
// up alerts them). Runs in every passage that moves an item, its referral's
// included.
absl::Status RefreshPlanBookkeeping(CaseWriter& scope) {
  absl::StatusOr<std::vector<v1::PlanItem>> items =
      scope.LoadAllAdministrative<v1::PlanItem>(RecordKind::kPlanItem);
  if (!items.ok()) return items.status();
  std::optional<absl::Time> first;
  std::map<std::string, absl::Time> awaited;
  for (const v1::PlanItem& item : *items) {
    const std::optional<v1::Referral> referral = ReferralNow(scope, item);
    const v1::PlanItemStatus status = StatusOf(item, referral);
    if (item.has_due_time() && !IsFinished(status)) {
      const absl::Time due = FromTimestamp(item.due_time());
      if (!first.has_value() || due < *first) first = due;
    }
    if (item.provider_service_id().empty()) continue;
    std::optional<absl::Time> until;
    if (status == v1::PLAN_ITEM_STATUS_PLANNED) until = absl::InfiniteFuture();
    if (status == v1::PLAN_ITEM_STATUS_REFERRED && referral.has_value()) {
      until = FromTimestamp(referral->response_deadline());
    }
    if (!until.has_value()) continue;
    absl::Time& kept = awaited.try_emplace(item.provider_service_id(), *until).first->second;
    kept = std::max(kept, *until);
  }
  scope.SetWatch(v1::WATCH_KIND_PLAN_ITEM_DUE, first);
  return scope.SetServicesAwaited(awaited);
}

}  // namespace

void PlanDesk::FollowReferrals() {
  referrals_->OnMoved([](CaseWriter& scope, const v1::Referral&) {
    return RefreshPlanBookkeeping(scope);
  });
}

absl::Status PlanDesk::CheckProvider(const access::RequestContext& ctx, const v1::PlanItem& item) {
  if (item.provider_organisation_id().empty()) return absl::OkStatus();
  absl::StatusOr<v1::Organisation> provider =
      accounts_->FindOrganisation(item.provider_organisation_id());
  if (!provider.ok()) {
    if (absl::IsNotFound(provider.status()) || absl::IsInvalidArgument(provider.status())) {
      return absl::InvalidArgumentError("provider_organisation_id must name an organisation");
    }
    return provider.status();
  }
  if (provider->type() != v1::ORGANISATION_TYPE_SERVICE_PROVIDER &&
      provider->type() != v1::ORGANISATION_TYPE_NGO &&
      provider->type() != v1::ORGANISATION_TYPE_INTERNATIONAL_ORGANISATION) {
    return absl::FailedPreconditionError(
        "provider_organisation_id must name a service provider, an NGO or an international "
        "organisation");
  }
  if (item.provider_service_id().empty()) return absl::OkStatus();
  absl::StatusOr<v1::ServiceMatch> service = directory_->GetService(ctx, item.provider_service_id());
  if (!service.ok() || service->service().organisation_id() != item.provider_organisation_id()) {
    return absl::InvalidArgumentError(
        "provider_service_id must name a directory service of that provider");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ServicePlan> PlanDesk::Present(CaseScope& scope) {
  absl::StatusOr<v1::ServicePlan> plan = LoadHeader(scope);
  if (!plan.ok()) return plan.status();
  plan->set_case_id(scope.case_id());
  plan->set_approved(plan->version() > 0 && plan->approved_version() == plan->version());
  absl::StatusOr<std::vector<v1::PlanItem>> items = scope.LoadAll<v1::PlanItem>(RecordKind::kPlanItem);
  if (!items.ok()) return items.status();
  std::sort(items->begin(), items->end(),
            [](const v1::PlanItem& a, const v1::PlanItem& b) { return a.number() < b.number(); });
  const bool owner = OwnsCase(scope);
  for (v1::PlanItem& item : *items) {
    if (!owner && item.provider_organisation_id() != scope.context().principal.organisation_id) {
      continue;
    }
    item.set_status(StatusNow(scope, item));
    item.set_overdue(IsOverdue(item, scope.now()));
    *plan->add_items() = std::move(item);
  }
  return plan;
}

absl::StatusOr<v1::ListOverduePlanItemsResponse> PlanDesk::ListOverdue(
    const access::RequestContext& ctx, const v1::ListOverduePlanItemsRequest& request) {
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  access::CaseQuery query;
  query.status = v1::CASE_STATUS_OPEN;
  query.watch = v1::WATCH_KIND_PLAN_ITEM_DUE;
  query.watch_due_before = clock_->Now();
  query.limit = request.page_size() == 0 ? 50 : std::min(request.page_size(), 200);
  query.page_token = request.page_token();
  v1::ListOverduePlanItemsResponse response;
  absl::StatusOr<std::string> next = door_->ForEachReadableCase(
      ctx, query, "protection.list_overdue_items", [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<v1::ServicePlan> plan = Present(scope);
        if (!plan.ok()) return plan.status();
        for (v1::PlanItem& item : *plan->mutable_items()) {
          if (!item.overdue()) continue;
          v1::OverduePlanItem* out = response.add_items();
          out->set_case_id(scope.case_id());
          *out->mutable_item() = std::move(item);
        }
        return absl::OkStatus();
      });
  if (!next.ok()) return next.status();
  response.set_next_page_token(*next);
  return response;
}

absl::StatusOr<v1::ServicePlan> PlanDesk::Get(const access::RequestContext& ctx,
                                              const v1::GetServicePlanRequest& request) {
  v1::ServicePlan plan;
  absl::Status s = door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_READ,
                                   "protection.get_plan", [&](CaseScope& scope) {
                                     return services::Into(Present(scope), &plan);
                                   });
  if (!s.ok()) return s;
  return plan;
}

absl::StatusOr<v1::ServicePlan> PlanDesk::AddItem(const access::RequestContext& ctx,
                                                  const v1::AddPlanItemRequest& request) {
  const v1::PlanItem& in = request.item();
  if (absl::Status s = CheckPlannedItem(in); !s.ok()) return s;
  if (absl::Status s = CheckProvider(ctx, in); !s.ok()) return s;
  v1::ServicePlan plan;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.add_plan_item",
      [&](CaseScope& scope) -> absl::Status {
        if (!OwnsCase(scope)) return OwnersOnly();
        absl::StatusOr<std::vector<std::string>> ids = scope.RecordIds(RecordKind::kPlanItem);
        if (!ids.ok()) return ids.status();
        if (ids->size() >= kMaxItems) {
          return absl::ResourceExhaustedError(
              absl::StrCat("a service plan has at most ", kMaxItems, " items"));
        }
        absl::StatusOr<v1::ServicePlan> header = LoadHeader(scope);
        if (!header.ok()) return header.status();
        v1::PlanItem item;
        item.set_id(NewId());
        item.set_number(static_cast<int>(ids->size()) + 1);
        item.set_kind(in.kind());
        item.set_need(in.need());
        item.set_provider_organisation_id(in.provider_organisation_id());
        item.set_provider_service_id(in.provider_service_id());
        if (in.has_due_time()) *item.mutable_due_time() = in.due_time();
        item.set_status(v1::PLAN_ITEM_STATUS_PLANNED);
        *item.mutable_create_time() = ToTimestamp(scope.now());
        absl::StatusOr<std::string> raw = ParseId(item.id(), "item id");
        if (!raw.ok()) return raw.status();
        if (absl::Status w = scope.Save(RecordKind::kPlanItem, *raw, item); !w.ok()) return w;
        if (absl::Status w = SaveNewVersion(
                scope, *header,
                absl::StrCat("item ", item.id(), " (", KindName(item.kind()), ") added"));
            !w.ok()) {
          return w;
        }
        if (absl::Status w = RefreshPlanBookkeeping(scope); !w.ok()) return w;
        return services::Into(Present(scope), &plan);
      });
  if (!s.ok()) return s;
  return plan;
}

absl::StatusOr<v1::ServicePlan> PlanDesk::UpdateItem(const access::RequestContext& ctx,
                                                     const v1::UpdatePlanItemRequest& request) {
  static const std::set<std::string> kContent = {"kind", "need", "provider_organisation_id",
                                                 "provider_service_id", "due_time"};
  const google::protobuf::FieldMask& mask = request.update_mask();
  if (mask.paths().empty()) {
    return absl::InvalidArgumentError("update_mask must name the fields to change");
  }
  bool content = false;
  bool status = false;
  for (const std::string& path : mask.paths()) {
    if (path == "status") {
      status = true;
    } else if (kContent.count(path) > 0) {
      content = true;
    } else {
      return absl::InvalidArgumentError(
          "update_mask may name only kind, need, provider_organisation_id, provider_service_id, "
          "due_time and status");
    }
  }
  const v1::PlanItemStatus to = request.item().status();
  if (status && to != v1::PLAN_ITEM_STATUS_DECLINED && to != v1::PLAN_ITEM_STATUS_CANCELLED) {
    return absl::InvalidArgumentError(
        "status is changed here only to DECLINED or CANCELLED; a delivery is recorded with "
        "RecordServiceDelivery, a referral made with ReferPlanItem");
  }
  v1::ServicePlan plan;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.update_plan_item",
      [&](CaseScope& scope) -> absl::Status {
        if (!OwnsCase(scope)) return OwnersOnly();
        std::string raw;
        absl::StatusOr<v1::PlanItem> item = LoadItem(scope, request.item().id(), &raw);
        if (!item.ok()) return item.status();
        const v1::PlanItemStatus now_status = StatusNow(scope, *item);
        if (content && now_status != v1::PLAN_ITEM_STATUS_PLANNED) {
          return absl::FailedPreconditionError(
              "only a planned item changes; once referred, cancel it and add another");
        }
        if (status) {
          if (absl::Status m = CheckItemMove(now_status, to); !m.ok()) return m;
        }
        google::protobuf::util::FieldMaskUtil::MergeOptions options;
        options.set_replace_message_fields(true);
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(request.item(), mask, options,
                                                              &*item);
        if (absl::Status c = CheckPlannedItem(*item); !c.ok()) return c;
        if (content) {
          if (absl::Status c = CheckProvider(ctx, *item); !c.ok()) return c;
        }
        if (absl::Status w = scope.Save(RecordKind::kPlanItem, raw, *item); !w.ok()) return w;
        absl::StatusOr<v1::ServicePlan> header = LoadHeader(scope);
        if (!header.ok()) return header.status();
        const std::string what =
            status ? absl::StrCat("item ", item->id(), " ",
                                  to == v1::PLAN_ITEM_STATUS_DECLINED ? "declined" : "cancelled")
                   : absl::StrCat("item ", item->id(), " changed");
        if (absl::Status w = SaveNewVersion(scope, *header, what); !w.ok()) return w;
        if (absl::Status w = RefreshPlanBookkeeping(scope); !w.ok()) return w;
        return services::Into(Present(scope), &plan);
      });
  if (!s.ok()) return s;
  return plan;
}

absl::StatusOr<v1::ServicePlan> PlanDesk::Approve(const access::RequestContext& ctx,
                                                  const v1::ApproveServicePlanRequest& request) {
  v1::ServicePlan plan;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.approve_plan",
      [&](CaseScope& scope) -> absl::Status {
        if (!OwnsCase(scope) || !ctx.principal.HasRole(v1::ROLE_SUPERVISOR)) {
          return absl::PermissionDeniedError(
              "a supervisor of the case's own organisation approves its service plan");
        }
        absl::StatusOr<v1::ServicePlan> header = LoadHeader(scope);
        if (!header.ok()) return header.status();
        if (header->version() == 0) {
          return absl::FailedPreconditionError("the plan has no items to approve yet");
        }
        if (request.version() != header->version()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the plan changed since you read it (it is now version ", header->version(),
              "); read it again and approve what you read"));
        }
        if (header->approved_version() != header->version()) {
          header->set_approved_version(header->version());
          header->set_approved_by(ctx.principal.id);
          *header->mutable_approve_time() = ToTimestamp(scope.now());
          if (absl::Status w = scope.Save(RecordKind::kServicePlan, "", *header); !w.ok()) return w;
          if (absl::Status t = scope.AppendTimeline(
                  v1::TIMELINE_EVENT_PLAN_APPROVED,
                  absl::StrCat("service plan version ", header->version(), " approved"));
              !t.ok()) {
            return t;
          }
        }
        return services::Into(Present(scope), &plan);
      });
  if (!s.ok()) return s;
  return plan;
}

absl::StatusOr<v1::ReferPlanItemResponse> PlanDesk::Refer(const access::RequestContext& ctx,
                                                          const v1::ReferPlanItemRequest& request) {
  // The item names the receiver; it is read first, and checked again in the
  // referral's own passage, where the move is made.
  v1::PlanItem planned;
  absl::Status read = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_READ, "protection.get_plan",
      [&](CaseScope& scope) -> absl::Status {
        if (!OwnsCase(scope)) return OwnersOnly();
        std::string raw;
        return services::Into(LoadItem(scope, request.item_id(), &raw), &planned);
      });
  if (!read.ok()) return read;
  if (planned.provider_organisation_id().empty()) {
    return absl::FailedPreconditionError("the item names no provider to refer to");
  }
  v1::CreateReferralRequest create;
  *create.mutable_referral() = request.referral();
  create.mutable_referral()->set_case_id(request.case_id());
  create.mutable_referral()->set_receiver_organisation_id(planned.provider_organisation_id());
  create.mutable_referral()->clear_partner_id();
  if (create.referral().purpose() == v1::REFERRAL_PURPOSE_UNSPECIFIED) {
    create.mutable_referral()->set_purpose(PurposeFor(planned.kind()));
  }
  create.set_reason(request.reason());
  v1::ReferPlanItemResponse response;
  absl::StatusOr<v1::Referral> sent = referrals_->CreateAndSend(
      ctx, create, nullptr, [&](CaseScope& scope, const v1::Referral& referral) -> absl::Status {
        absl::StatusOr<v1::ServicePlan> header = LoadHeader(scope);
        if (!header.ok()) return header.status();
        if (header->version() == 0 || header->approved_version() != header->version()) {
          return absl::FailedPreconditionError(
              "the service plan needs a supervisor's approval of its latest version before an "
              "item is referred");
        }
        std::string raw;
        absl::StatusOr<v1::PlanItem> item = LoadItem(scope, request.item_id(), &raw);
        if (!item.ok()) return item.status();
        if (StatusNow(scope, *item) != v1::PLAN_ITEM_STATUS_PLANNED ||
            item->provider_organisation_id() != referral.receiver_organisation_id()) {
          return absl::FailedPreconditionError("only a planned item is referred, once");
        }
        item->set_status(v1::PLAN_ITEM_STATUS_REFERRED);
        item->set_referral_id(referral.id());
        *item->mutable_refer_time() = ToTimestamp(scope.now());
        if (absl::Status w = scope.Save(RecordKind::kPlanItem, raw, *item); !w.ok()) return w;
        *response.mutable_item() = *std::move(item);
        return RefreshPlanBookkeeping(scope);
      });
  if (!sent.ok()) return sent.status();
  *response.mutable_referral() = *std::move(sent);
  return response;
}

absl::StatusOr<v1::ServicePlan> PlanDesk::RecordDelivery(
    const access::RequestContext& ctx, const v1::RecordServiceDeliveryRequest& request) {
  if (request.outcome().size() > kMaxOutcome) {
    return absl::InvalidArgumentError(absl::StrCat("outcome has at most ", kMaxOutcome, " bytes"));
  }
  v1::ServicePlan plan;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.record_delivery",
      [&](CaseScope& scope) -> absl::Status {
        std::string raw;
        absl::StatusOr<v1::PlanItem> item = LoadItem(scope, request.item_id(), &raw);
        if (!item.ok()) return item.status();
        if (absl::Status m = CheckItemMove(StatusNow(scope, *item), v1::PLAN_ITEM_STATUS_DELIVERED);
            !m.ok()) {
          return m;
        }
        const absl::Time when =
            request.has_deliver_time() ? FromTimestamp(request.deliver_time()) : scope.now();
        if (when > scope.now() + absl::Minutes(5) ||
            (item->has_refer_time() && when < FromTimestamp(item->refer_time()))) {
          return absl::InvalidArgumentError(
              "deliver_time must be between the referral and now");
        }
        v1::PlanItem patch;
        google::protobuf::FieldMask mask;
        patch.set_status(v1::PLAN_ITEM_STATUS_DELIVERED);
        *patch.mutable_deliver_time() = ToTimestamp(when);
        patch.set_delivered_by(ctx.principal.id);
        for (const char* path : {"status", "deliver_time", "delivered_by"}) mask.add_paths(path);
        if (!request.outcome().empty()) {
          if (!scope.visible().Contains(v1::CONFIDENTIALITY_HEALTH)) {
            return absl::PermissionDeniedError(
                "outcome is health data, which this case does not share with you: record the "
                "delivery without an outcome, or ask the case's owner for a referral that shares "
                "health data");
          }
          patch.set_outcome(request.outcome());
          mask.add_paths("outcome");
        }
        v1::PlanItem result;
        if (absl::Status w = scope.Patch(RecordKind::kPlanItem, raw, patch, mask, &result); !w.ok()) {
          return w;
        }
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_SERVICE_DELIVERED,
                absl::StrCat("plan item ", item->id(), " delivered"));
            !t.ok()) {
          return t;
        }
        if (absl::Status w = RefreshPlanBookkeeping(scope); !w.ok()) return w;
        return services::Into(Present(scope), &plan);
      });
  if (!s.ok()) return s;
  return plan;
}

}  // namespace haven::protection
