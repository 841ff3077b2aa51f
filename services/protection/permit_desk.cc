// PermitDesk: residence permits under a case, and the due list of their expiries.
#include "services/protection/permit_desk.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "services/common/handler.h"
#include "services/protection/permit_rules.h"
#include "storage/ids.h"
#include "storage/timestamps.h"

namespace haven::protection {
namespace {

namespace v1 = haven::v1;
using access::CaseScope;
using access::RecordKind;

constexpr int kMaxPermits = 50;
constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 200;

std::string TypeName(v1::PermitType type) {
  return v1::PermitType_Name(type).substr(std::string("PERMIT_TYPE_").size());
}

// Every permit of the case, as of now, oldest application first.
absl::StatusOr<std::vector<v1::ResidencePermit>> PermitsOf(CaseScope& scope) {
  absl::StatusOr<std::vector<v1::ResidencePermit>> permits =
      scope.LoadAll<v1::ResidencePermit>(RecordKind::kResidencePermit);
  if (!permits.ok()) return permits.status();
  std::vector<v1::ResidencePermit> now = AsOf(*std::move(permits), scope.now());
  std::sort(now.begin(), now.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.apply_time().seconds(), a.id()) <
           std::make_pair(b.apply_time().seconds(), b.id());
  });
  return now;
}

// A new application from the fields an applicant gives.
absl::StatusOr<v1::ResidencePermit> NewApplication(CaseScope& scope, const v1::ResidencePermit& in) {
  v1::ResidencePermit permit;
  permit.set_id(NewId());
  permit.set_type(in.type());
  permit.set_status(v1::PERMIT_STATUS_APPLIED);
  *permit.mutable_apply_time() = in.has_apply_time() ? in.apply_time() : ToTimestamp(scope.now());
  permit.set_issuing_authority(in.issuing_authority());
  if (!in.renews_permit_id().empty()) {
    absl::StatusOr<std::string> renewed = ParseId(in.renews_permit_id(), "renews_permit_id");
    if (!renewed.ok()) return renewed.status();
    v1::ResidencePermit old;
    absl::StatusOr<bool> found = scope.Load(RecordKind::kResidencePermit, *renewed, &old);
    if (!found.ok()) return found.status();
    if (!*found || old.status() != v1::PERMIT_STATUS_GRANTED) {
      return absl::FailedPreconditionError("renews_permit_id must name a granted permit of the case");
    }
    permit.set_renews_permit_id(in.renews_permit_id());
  }
  return permit;
}

// The stored permit `in.id` with the decision or correction named by `mask`.
absl::StatusOr<v1::ResidencePermit> Decided(CaseScope& scope, const v1::ResidencePermit& in,
                                            const google::protobuf::FieldMask& mask,
                                            std::string* raw_id) {
  static const std::set<std::string> kPaths = {"status",      "decide_time",     "valid_from",
                                               "expire_time", "document_number", "issuing_authority"};
  if (mask.paths().empty()) {
    return absl::InvalidArgumentError("update_mask must name what the decision changes");
  }
  for (const std::string& path : mask.paths()) {
    if (kPaths.count(path) == 0) {
      return absl::InvalidArgumentError(
          "update_mask may name only status, decide_time, valid_from, expire_time, "
          "document_number and issuing_authority");
    }
  }
  absl::StatusOr<std::string> raw = ParseId(in.id(), "permit.id");
  if (!raw.ok()) return raw.status();
  v1::ResidencePermit permit;
  absl::StatusOr<bool> found = scope.Load(RecordKind::kResidencePermit, *raw, &permit);
  if (!found.ok()) return found.status();
  if (!*found) return absl::NotFoundError("permit not found");
  const bool moves = std::find(mask.paths().begin(), mask.paths().end(), "status") !=
                         mask.paths().end() &&
                     in.status() != permit.status();
  if (moves) {
    if (absl::Status s = CheckPermitMove(permit.status(), in.status()); !s.ok()) return s;
  }
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(in, mask, options, &permit);
  if (moves && !permit.has_decide_time()) *permit.mutable_decide_time() = ToTimestamp(scope.now());
  *raw_id = *std::move(raw);
  return permit;
}

}  // namespace

absl::StatusOr<v1::ResidencePermit> PermitDesk::Record(
    const access::RequestContext& ctx, const v1::RecordResidencePermitRequest& request) {
  const bool is_new = request.permit().id().empty();
  if (is_new && (!v1::PermitType_IsValid(request.permit().type()) ||
                 request.permit().type() == v1::PERMIT_TYPE_UNSPECIFIED)) {
    return absl::InvalidArgumentError(
        "type must be reflection, temporary for victims, humanitarian or permanent");
  }
  v1::ResidencePermit result;
  absl::Status s = door_->WithCase(
      ctx, request.case_id(), v1::CASE_ACTION_UPDATE, "protection.record_permit",
      [&](CaseScope& scope) -> absl::Status {
        if (scope.record().owning_organisation_id() != ctx.principal.organisation_id) {
          return absl::PermissionDeniedError(
              "the case's own organisation records its residence permits");
        }
        std::string raw;
        absl::StatusOr<v1::ResidencePermit> permit =
            is_new ? NewApplication(scope, request.permit())
                   : Decided(scope, request.permit(), request.update_mask(), &raw);
        if (!permit.ok()) return permit.status();
        if (absl::Status c = CheckPermit(*permit, scope.now()); !c.ok()) return c;
        if (is_new) {
          absl::StatusOr<std::vector<std::string>> ids = scope.RecordIds(RecordKind::kResidencePermit);
          if (!ids.ok()) return ids.status();
          if (ids->size() >= kMaxPermits) {
            return absl::ResourceExhaustedError(
                absl::StrCat("a case has at most ", kMaxPermits, " permits"));
          }
          absl::StatusOr<std::string> id = ParseId(permit->id(), "permit id");
          if (!id.ok()) return id.status();
          raw = *id;
        }
        permit->clear_in_force();
        permit->clear_days_left();
        if (absl::Status w = scope.Save(RecordKind::kResidencePermit, raw, *permit); !w.ok()) {
          return w;
        }
        const std::string what = is_new ? "applied for" : "decided or corrected";
        if (absl::Status t = scope.AppendTimeline(
                v1::TIMELINE_EVENT_PERMIT_RECORDED,
                absl::StrCat("residence permit ", permit->id(), " (", TypeName(permit->type()),
                             ") ", what));
            !t.ok()) {
          return t;
        }
        absl::StatusOr<std::vector<v1::ResidencePermit>> all = PermitsOf(scope);
        if (!all.ok()) return all.status();
        scope.SetWatch(v1::WATCH_KIND_PERMIT_EXPIRY, FirstExpiry(*all));
        for (const v1::ResidencePermit& p : *all) {
          if (p.id() == permit->id()) result = p;
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<v1::ListResidencePermitsResponse> PermitDesk::List(
    const access::RequestContext& ctx, const v1::ListResidencePermitsRequest& request) {
  v1::ListResidencePermitsResponse response;
  absl::Status s = door_->WithCase(ctx, request.case_id(), v1::CASE_ACTION_READ,
                                   "protection.list_permits", [&](CaseScope& scope) -> absl::Status {
                                     absl::StatusOr<std::vector<v1::ResidencePermit>> all =
                                         PermitsOf(scope);
                                     if (!all.ok()) return all.status();
                                     for (auto& p : *all) *response.add_permits() = std::move(p);
                                     return absl::OkStatus();
                                   });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::ListExpiringPermitsResponse> PermitDesk::ListExpiring(
    const access::RequestContext& ctx, const v1::ListExpiringPermitsRequest& request) {
  if (request.within_days() < 1 || request.within_days() > 366) {
    return absl::InvalidArgumentError("within_days must be from 1 to 366");
  }
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  const absl::Time horizon = clock_->Now() + absl::Hours(24) * request.within_days();
  access::CaseQuery query;
  query.status = v1::CASE_STATUS_OPEN;
  query.watch = v1::WATCH_KIND_PERMIT_EXPIRY;
  query.watch_due_before = horizon;
  query.limit = request.page_size() == 0 ? kDefaultPage : std::min(request.page_size(), kMaxPage);
  query.page_token = request.page_token();
  v1::ListExpiringPermitsResponse response;
  absl::StatusOr<std::string> next = door_->ForEachReadableCase(
      ctx, query, "protection.list_expiring_permits", [&](CaseScope& scope) -> absl::Status {
        absl::StatusOr<std::vector<v1::ResidencePermit>> all = PermitsOf(scope);
        if (!all.ok()) return all.status();
        for (v1::ResidencePermit& p : *all) {
          if (!p.in_force() || !p.has_expire_time() || FromTimestamp(p.expire_time()) >= horizon) {
            continue;
          }
          v1::ExpiringPermit* out = response.add_permits();
          out->set_case_id(scope.case_id());
          *out->mutable_permit() = std::move(p);
        }
        return absl::OkStatus();
      });
  if (!next.ok()) return next.status();
  response.set_next_page_token(*next);
  return response;
}

}  // namespace haven::protection
