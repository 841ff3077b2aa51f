// CaseDoor's referral directory: referrals (administrative records) with their inbox and outbox entries.
#include "storage/access/case_door.h"

#include "absl/strings/str_cat.h"
#include "storage/access/case_door_parts.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

}  // namespace

std::string PartnerReferralKey(absl::string_view partner_id,
                               absl::string_view partner_referral_id) {
  std::string key;
  keys::AppendShortString(&key, partner_id);
  key.append(partner_referral_id.data(), partner_referral_id.size());
  return key;
}

absl::StatusOr<v1::Referral> CaseScope::FindReferral(absl::string_view referral_id) {
  absl::StatusOr<std::string> raw = ParseId(referral_id, "referral_id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> stored = txn_->GetForUpdate(Cf::kReferrals, *raw);
  if (!stored.ok()) return stored.status();
  v1::Referral referral;
  if (!stored->has_value() || !referral.ParseFromString(**stored) ||
      referral.case_id() != hex_id_) {
    return absl::NotFoundError("referral not found");
  }
  return referral;
}

absl::Status CaseScope::PutReferral(const v1::Referral& referral) {
  absl::StatusOr<std::string> raw = ParseId(referral.id(), "referral id");
  if (!raw.ok()) return raw.status();
  if (absl::Status s = txn_->Put(Cf::kReferrals, *raw, referral.SerializeAsString()); !s.ok()) {
    return s;
  }
  // A transnational referral has an organisation on one side only.
  if (!referral.receiver_organisation_id().empty()) {
    if (absl::Status s = txn_->Put(
            Cf::kCaseIndex, IndexPrefix('i', referral.receiver_organisation_id()) + *raw, "");
        !s.ok()) {
      return s;
    }
  }
  if (!referral.sender_organisation_id().empty()) {
    if (absl::Status s = txn_->Put(
            Cf::kCaseIndex, IndexPrefix('x', referral.sender_organisation_id()) + *raw, "");
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = txn_->Put(Cf::kCaseIndex, IndexPrefix('r', raw_id_) + *raw, ""); !s.ok()) {
    return s;
  }
  if (!referral.partner_id().empty() && !referral.partner_referral_id().empty()) {
    // Locked, so that a partner's packet delivered twice at once makes one
    // referral, not two.
    const std::string key =
        PartnerReferralKey(referral.partner_id(), referral.partner_referral_id());
    absl::StatusOr<std::optional<std::string>> known =
        txn_->GetForUpdate(Cf::kPartnerReferrals, key);
    if (!known.ok()) return known.status();
    if (known->has_value() && **known != *raw) {
      return absl::AlreadyExistsError("the partner's referral is here already");
    }
    if (absl::Status s = txn_->Put(Cf::kPartnerReferrals, key, *raw); !s.ok()) return s;
  }
  MarkChanged();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Referral>> CaseDoor::FindReferralFromPartner(
    absl::string_view partner_id, absl::string_view partner_referral_id) {
  absl::StatusOr<std::optional<std::string>> raw =
      store_->Get(Cf::kPartnerReferrals, PartnerReferralKey(partner_id, partner_referral_id));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<v1::Referral>();
  return FindReferral(ToHex(**raw));
}

absl::StatusOr<std::optional<v1::Referral>> CaseDoor::FindReferral(absl::string_view referral_id) {
  absl::StatusOr<std::string> raw = ParseId(referral_id, "referral_id");
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::optional<std::string>> stored = store_->Get(Cf::kReferrals, *raw);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<v1::Referral>();
  v1::Referral referral;
  if (!referral.ParseFromString(**stored)) return absl::DataLossError("a referral is unreadable");
  return std::optional<v1::Referral>(std::move(referral));
}

absl::Status CaseDoor::ScanReferrals(bool inbox, absl::string_view organisation_id,
                                     absl::string_view after_id,
                                     const std::function<bool(const v1::Referral&)>& visit) {
  std::string prefix = IndexPrefix(inbox ? 'i' : 'x', organisation_id);
  std::string after;
  if (!after_id.empty()) {
    absl::StatusOr<std::string> raw = ParseId(after_id, "page_token");
    if (!raw.ok()) return raw.status();
    after = prefix + *raw;
  }
  absl::Status failure;
  absl::Status s = store_->Scan(Cf::kCaseIndex, prefix, after, [&](absl::string_view key, absl::string_view) {
    absl::StatusOr<std::optional<std::string>> stored =
        store_->Get(Cf::kReferrals, key.substr(prefix.size()));
    v1::Referral referral;
    if (!stored.ok() || !stored->has_value() || !referral.ParseFromString(**stored)) {
      failure = absl::DataLossError("a referral index entry has no readable referral");
      return false;
    }
    return visit(referral);
  });
  if (!s.ok()) return s;
  return failure;
}

}  // namespace haven::access
