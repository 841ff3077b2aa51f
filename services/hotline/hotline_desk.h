// HotlineDesk: the domain rules of the hotline: logging contacts (anonymous
// by default; non-data contacts hold nothing personal), callbacks and the
// operator's queue, escalation to a case and to a referral, repeat callers,
// dashboards and the retention purge of caller details. All personal data
// passes through the ContactDoor and the CaseDoor (the case file and the
// referral desk included).
#ifndef HAVEN_SERVICES_HOTLINE_HOTLINE_DESK_H_
#define HAVEN_SERVICES_HOTLINE_HOTLINE_DESK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/hotline.pb.h"
#include "services/cases/case_file.h"
#include "services/referral/referral_desk.h"
#include "storage/access/accounts.h"
#include "storage/access/case_door.h"
#include "storage/access/contact_door.h"
#include "storage/access/principal.h"
#include "storage/clock.h"

namespace haven::hotline {

// The caller's number as indexed for repeat contacts: its digits only, with
// a leading "00" (international call prefix) dropped, so that
// "+40 721 000 111", "0040 721-000-111" and "40721000111" are one number.
// A national form ("0721 000 111") stays distinct: Haven does not guess the
// country. Empty when the number has no digits.
std::string NormalizePhoneNumber(absl::string_view number);

// True for the categories that are counted but hold nothing personal
// (silent, hang-up, test, abusive).
bool IsNonDataCategory(haven::v1::ContactCategory category);

class HotlineDesk {
 public:
  struct Options {
    absl::Duration caller_details_retention = absl::Hours(24 * 30);
    // The jurisdiction's zone, for "today" in dashboards.
    absl::TimeZone time_zone = absl::UTCTimeZone();
  };

  // `referrals` sends the referrals of EscalateContactToReferral; it and
  // `accounts` (for the case file) must outlive the desk.
  HotlineDesk(access::ContactDoor* contacts, access::CaseDoor* cases,
              referral::ReferralDesk* referrals, const access::Accounts* accounts,
              const Clock* clock, Options options)
      : contacts_(contacts),
        cases_(cases),
        referrals_(referrals),
        case_file_(cases, accounts, clock),
        clock_(clock),
        options_(options) {}

  absl::StatusOr<haven::v1::Contact> LogContact(const access::RequestContext& ctx,
                                                const haven::v1::LogContactRequest& request);
  absl::StatusOr<haven::v1::Contact> GetContact(const access::RequestContext& ctx,
                                                const haven::v1::GetContactRequest& request);
  absl::StatusOr<haven::v1::Contact> EscalateContact(
      const access::RequestContext& ctx, const haven::v1::EscalateContactRequest& request);
  // See EscalateContactToReferralRequest in hotline.proto.
  absl::StatusOr<haven::v1::EscalateContactToReferralResponse> EscalateContactToReferral(
      const access::RequestContext& ctx,
      const haven::v1::EscalateContactToReferralRequest& request);
  absl::StatusOr<haven::v1::Callback> ScheduleCallback(
      const access::RequestContext& ctx, const haven::v1::ScheduleCallbackRequest& request);
  absl::StatusOr<haven::v1::Callback> CloseCallback(
      const access::RequestContext& ctx, const haven::v1::CloseCallbackRequest& request);
  absl::StatusOr<haven::v1::ListCallbacksResponse> ListCallbacks(
      const access::RequestContext& ctx, const haven::v1::ListCallbacksRequest& request);
  absl::StatusOr<haven::v1::HotlineDashboard> GetDashboard(
      const access::RequestContext& ctx, const haven::v1::GetHotlineDashboardRequest& request);

  // Removes the caller details whose retention ended by the clock's now;
  // logs and returns how many contacts it purged.
  absl::StatusOr<int> PurgeExpiredDetails();

 private:
  // Opens a case for `subject` from the contact, in the contact's
  // transaction; returns its id.
  absl::StatusOr<std::string> OpenCaseFor(const access::RequestContext& ctx,
                                          access::ContactScope& contact,
                                          const haven::v1::Subject& subject);

  access::ContactDoor* contacts_;
  access::CaseDoor* cases_;
  referral::ReferralDesk* referrals_;
  cases::CaseFile case_file_;
  const Clock* clock_;
  Options options_;
};

}  // namespace haven::hotline

#endif  // HAVEN_SERVICES_HOTLINE_HOTLINE_DESK_H_
