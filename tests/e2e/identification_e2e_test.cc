// End-to-end test of identification against the real havend over gRPC: screening, referral, reasonable- and conclusive-grounds decisions, timeline, audit and privacy.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/e2e/havend_process.h"

namespace haven::e2e {
namespace {

namespace v1 = haven::v1;
using grpc::StatusCode;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kDay = 24 * 60 * 60;
constexpr int kReasonableGroundsWorkingDays = 5;
constexpr int kReflectionPeriodDays = 30;

std::vector<v1::TimelineEventKind> KindsOf(const v1::ListTimelineResponse& timeline) {
  std::vector<v1::TimelineEventKind> kinds;
  for (const v1::TimelineEvent& e : timeline.events()) kinds.push_back(e.kind());
  return kinds;
}

// Every audit entry of one case, across pages.
void QueryCaseAudit(Client& client, const Actor& auditor, const std::string& case_id,
                    std::vector<v1::AuditEntry>* out) {
  v1::QueryAuditEntriesRequest request;
  request.set_case_id(case_id);
  request.set_page_size(1000);
  for (int page = 0; page < 100; ++page) {
    v1::QueryAuditEntriesResponse response;
    grpc::Status s = client.audit->QueryAuditEntries(Ctx(auditor.token).get(), request, &response);
    ASSERT_TRUE(s.ok()) << Describe(s);
    out->insert(out->end(), response.entries().begin(), response.entries().end());
    if (response.next_page_token().empty()) return;
    request.set_page_token(response.next_page_token());
  }
  FAIL() << "the audit query never ran out of pages";
}

// How many entries have this action, outcome and principal.
int CountEntries(const std::vector<v1::AuditEntry>& entries, const std::string& action,
                 v1::AuditOutcome outcome, const std::string& principal_id) {
  return static_cast<int>(std::count_if(entries.begin(), entries.end(), [&](const v1::AuditEntry& e) {
    return e.action() == action && e.outcome() == outcome && e.principal_id() == principal_id;
  }));
}

std::string DescribeEntries(const std::vector<v1::AuditEntry>& entries) {
  std::string out;
  for (const v1::AuditEntry& e : entries) {
    out += std::to_string(e.sequence()) + " " + e.action() + " " +
           v1::AuditOutcome_Name(e.outcome()) + " by " + e.principal_id() + "\n";
  }
  return out;
}

TEST(IdentificationE2eTest, IdentificationFlowOverRealGrpc) {
  HavendProcess havend(
      "jurisdiction { reasonable_grounds_working_days: " +
      std::to_string(kReasonableGroundsWorkingDays) +
      " reflection_period_days: " + std::to_string(kReflectionPeriodDays) + " }");
  ASSERT_NO_FATAL_FAILURE(havend.Init());
  ASSERT_NO_FATAL_FAILURE(havend.Start());
  auto client = std::make_unique<Client>(havend.channel());
  Client& c = *client;

  // ------------------------------------------------------------ 1. set-up
  Actor admin;
  ASSERT_NO_FATAL_FAILURE(SetUpAdministrator(havend, c, &admin));
  Team ngo, authority, other_ngo;
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(c, admin, "First Responder Shelter", v1::ORGANISATION_TYPE_NGO,
                                    {{"responder", v1::ROLE_CASEWORKER}}, &ngo));
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(c, admin, "National Identification Authority",
                                    v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY,
                                    {{"decider", v1::ROLE_DECISION_MAKER}}, &authority));
  ASSERT_NO_FATAL_FAILURE(SetUpTeam(c, admin, "Other Shelter", v1::ORGANISATION_TYPE_NGO,
                                    {{"outsider", v1::ROLE_CASEWORKER}}, &other_ngo));
  Actor auditor;
  ASSERT_NO_FATAL_FAILURE(
      CreateUser(c, admin, admin.organisation_id, "auditor", v1::ROLE_AUDITOR, &auditor));
  const Actor& responder = ngo.users[0];
  const Actor& decider = authority.users[0];
  const Actor& outsider = other_ngo.users[0];

  // ------------------------------------------------------------ 2. case, screening, referral
  // The subject's name is a canary; the responder also writes it into free
  // text (notes, reasons), as people do.
  const std::string token = RandomString(20, kCanaryAlphabet);
  const std::string given_name = "Canary" + token + "Given";
  const std::string family_name = "Canary" + token + "Family";
  const std::string full_name = given_name + " " + family_name;

  v1::CreateCaseRequest create;
  v1::Subject* subject = create.mutable_subject();
  subject->set_given_name(given_name);
  subject->set_family_name(family_name);
  subject->set_sex(v1::SEX_FEMALE);
  subject->mutable_date_of_birth()->set_year(1996);  // an adult: no guardian needed
  subject->mutable_date_of_birth()->set_month(3);
  subject->mutable_date_of_birth()->set_day(9);
  subject->add_citizenships("NG");
  subject->add_languages("en");
  v1::Case created;
  grpc::Status s = c.cases->CreateCase(Ctx(responder.token).get(), create, &created);
  ASSERT_TRUE(s.ok()) << Describe(s);
  const std::string case_id = created.id();
  ASSERT_EQ(case_id.size(), 32u);
  EXPECT_EQ(created.owning_organisation_id(), ngo.organisation_id);

  v1::GetIndicatorSetRequest get_set;
  get_set.set_id("general");
  v1::IndicatorSet set;
  s = c.identification->GetIndicatorSet(Ctx(responder.token).get(), get_set, &set);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(set.id(), "general");
  ASSERT_GT(set.version(), 0u);
  ASSERT_GT(set.indicators_size(), 3);

  // Observed: the first strong indicator of act, means and purpose, which
  // makes a strong indication. Every other indicator is cited as not seen.
  std::map<v1::IndicatorCategory, std::string> strong_by_category;
  for (const v1::Indicator& indicator : set.indicators()) {
    if (indicator.strength() == v1::INDICATOR_STRENGTH_STRONG) {
      strong_by_category.emplace(indicator.category(), indicator.code());
    }
  }
  std::vector<std::string> observed_codes;
  for (v1::IndicatorCategory category : {v1::INDICATOR_CATEGORY_ACT, v1::INDICATOR_CATEGORY_MEANS,
                                         v1::INDICATOR_CATEGORY_PURPOSE}) {
    ASSERT_EQ(strong_by_category.count(category), 1u)
        << "the general set has no strong indicator of " << v1::IndicatorCategory_Name(category);
    observed_codes.push_back(strong_by_category[category]);
  }
  v1::CreateScreeningRequest screen;
  v1::Screening* screening = screen.mutable_screening();
  screening->set_case_id(case_id);
  screening->set_indicator_set_id("general");
  screening->set_setting(v1::SCREENING_SETTING_SHELTER);
  screening->set_language("en");
  screening->add_forms_suspected(v1::EXPLOITATION_FORM_FORCED_LABOUR);
  screening->add_means_suspected(v1::TRAFFICKING_MEANS_DECEPTION);
  screening->set_notes("Screened " + full_name + " at the shelter.");
  for (const v1::Indicator& indicator : set.indicators()) {
    v1::Observation* o = screening->add_observations();
    o->set_indicator_code(indicator.code());
    bool seen = std::find(observed_codes.begin(), observed_codes.end(), indicator.code()) !=
                observed_codes.end();
    o->set_observed(seen);
    if (seen) o->set_note(given_name + " told us so.");
  }
  v1::Screening screened;
  s = c.identification->CreateScreening(Ctx(responder.token).get(), screen, &screened);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(screened.case_id(), case_id);
  EXPECT_EQ(screened.indicator_set_version(), set.version());
  EXPECT_EQ(screened.screened_by(), responder.user_id);
  EXPECT_EQ(screened.screener_organisation_id(), ngo.organisation_id);
  EXPECT_EQ(screened.strength().level(), v1::INDICATION_LEVEL_STRONG)
      << screened.strength().explanation();
  EXPECT_THAT(screened.strength().weighed_indicator_codes(),
              ::testing::UnorderedElementsAreArray(observed_codes));
  EXPECT_EQ(screened.strength().explanation().find(token), std::string::npos)
      << "the explanation is written from codes only";

  v1::ReferPresumedVictimRequest refer;
  refer.set_case_id(case_id);
  refer.set_competent_authority_organisation_id(authority.organisation_id);
  refer.set_note("Please decide on " + full_name + ".");
  v1::Identification referred;
  const int64_t before_referral = SecondsFromNow(0).seconds();
  s = c.identification->ReferPresumedVictim(Ctx(responder.token).get(), refer, &referred);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(referred.case_id(), case_id);
  EXPECT_EQ(referred.status(), v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM);
  EXPECT_EQ(referred.competent_authority_organisation_id(), authority.organisation_id);
  EXPECT_GE(referred.referral_time().seconds(), before_referral - 1);
  EXPECT_LE(referred.referral_time().seconds(), SecondsFromNow(1).seconds());
  ASSERT_TRUE(referred.has_reasonable_grounds_due());
  // Due at the start of the day after the 5th working day after the
  // referral day: more than 5 days ahead, and (weekends only) under 14.
  const int64_t due_seconds = referred.reasonable_grounds_due().seconds();
  EXPECT_GT(due_seconds, SecondsFromNow(0).seconds()) << "the reasonable-grounds decision is due in the past";
  EXPECT_GT(due_seconds, referred.referral_time().seconds() + kReasonableGroundsWorkingDays * kDay);
  EXPECT_LT(due_seconds, referred.referral_time().seconds() + 14 * kDay);
  EXPECT_EQ(due_seconds % kDay, 0) << "due at 00:00 UTC";

  // ------------------------------------------------------------ 3. reasonable grounds
  v1::ListDueDecisionsRequest due_request;
  *due_request.mutable_due_before() = SecondsFromNow(365 * kDay);
  v1::ListDueDecisionsResponse due;
  s = c.identification->ListDueDecisions(Ctx(decider.token).get(), due_request, &due);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(due.decisions_size(), 1) << due.DebugString();
  EXPECT_EQ(due.decisions(0).case_id(), case_id);
  EXPECT_EQ(due.decisions(0).kind(), v1::DECISION_KIND_REASONABLE_GROUNDS);
  EXPECT_EQ(due.decisions(0).due_time().seconds(), due_seconds);
  EXPECT_FALSE(due.decisions(0).overdue());
  // Another NGO's caseworker has no decisions due on someone else's case.
  v1::ListDueDecisionsResponse outsider_due;
  s = c.identification->ListDueDecisions(Ctx(outsider.token).get(), due_request, &outsider_due);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(outsider_due.decisions_size(), 0) << outsider_due.DebugString();

  // The referral's grant lets the competent authority read the case.
  v1::GetCaseRequest get_case;
  get_case.set_case_id(case_id);
  v1::Case as_seen_by_decider;
  s = c.cases->GetCase(Ctx(decider.token).get(), get_case, &as_seen_by_decider);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(as_seen_by_decider.id(), case_id);
  EXPECT_EQ(as_seen_by_decider.owning_organisation_id(), ngo.organisation_id);
  EXPECT_EQ(as_seen_by_decider.subject().given_name(), given_name);
  EXPECT_EQ(as_seen_by_decider.subject().family_name(), family_name);
  EXPECT_EQ(as_seen_by_decider.identification_status(), v1::IDENTIFICATION_STATUS_PRESUMED_VICTIM);
  EXPECT_EQ(as_seen_by_decider.next_deadline().seconds(), due_seconds);

  // Only the competent authority's decision maker decides: the responder,
  // who may otherwise update the case, is refused, and that is audited.
  v1::DecideRequest reasonable;
  reasonable.set_case_id(case_id);
  reasonable.set_positive(true);
  reasonable.set_reasons("Credible account by " + given_name + "; strong indicators of all three elements.");
  v1::Identification not_decided;
  s = c.identification->DecideReasonableGrounds(Ctx(responder.token).get(), reasonable,
                                                &not_decided);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << Describe(s);

  v1::Identification rg;
  s = c.identification->DecideReasonableGrounds(Ctx(decider.token).get(), reasonable, &rg);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(rg.status(), v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS);
  ASSERT_TRUE(rg.has_reflection_period_end());

  v1::GetIdentificationRequest get_ident;
  get_ident.set_case_id(case_id);
  v1::Identification after_rg;
  s = c.identification->GetIdentification(Ctx(decider.token).get(), get_ident, &after_rg);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(after_rg.status(), v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS);
  ASSERT_EQ(after_rg.decisions_size(), 1);
  const v1::Decision& rg_decision = after_rg.decisions(0);
  EXPECT_EQ(rg_decision.kind(), v1::DECISION_KIND_REASONABLE_GROUNDS);
  EXPECT_TRUE(rg_decision.positive());
  EXPECT_EQ(rg_decision.reasons(), reasonable.reasons());
  EXPECT_EQ(rg_decision.decided_by(), decider.user_id);
  // Exactly 30 days (UTC, no clock change) after the decision.
  EXPECT_EQ(rg.reflection_period_end().seconds(),
            rg_decision.decide_time().seconds() + kReflectionPeriodDays * kDay);
  EXPECT_EQ(rg.reflection_period_end().nanos(), rg_decision.decide_time().nanos());
  EXPECT_EQ(after_rg.reflection_period_end().seconds(), rg.reflection_period_end().seconds());

  // From now on a conclusive decision is due when the period ends.
  s = c.identification->ListDueDecisions(Ctx(decider.token).get(), due_request, &due);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(due.decisions_size(), 1) << due.DebugString();
  EXPECT_EQ(due.decisions(0).kind(), v1::DECISION_KIND_CONCLUSIVE_GROUNDS);
  EXPECT_EQ(due.decisions(0).due_time().seconds(), rg.reflection_period_end().seconds());

  // ------------------------------------------------------------ 4. conclusive grounds
  v1::DecideRequest conclusive;
  conclusive.set_case_id(case_id);
  conclusive.set_positive(true);
  conclusive.set_reasons("Trafficking for forced labour established for " + given_name + ".");
  v1::Identification refused;
  s = c.identification->DecideConclusiveGrounds(Ctx(decider.token).get(), conclusive, &refused);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("reflection"));
  EXPECT_EQ(s.error_message().find(token), std::string::npos) << Describe(s);
  v1::Identification unchanged;
  s = c.identification->GetIdentification(Ctx(decider.token).get(), get_ident, &unchanged);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(unchanged.status(), v1::IDENTIFICATION_STATUS_REASONABLE_GROUNDS);
  EXPECT_EQ(unchanged.decisions_size(), 1) << "the refused decision was stored";

  // The test cannot wait 30 days on the real clock: the decision maker
  // waives the period, with reasons. The period itself is tested on an
  // injected clock in tests/service/identification_test.cc.
  conclusive.set_waive_reflection_period(true);
  conclusive.set_waiver_reasons(given_name + " asked for an early decision to start proceedings.");
  v1::Identification cg;
  s = c.identification->DecideConclusiveGrounds(Ctx(decider.token).get(), conclusive, &cg);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(cg.status(), v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM);

  v1::Identification confirmed;
  s = c.identification->GetIdentification(Ctx(responder.token).get(), get_ident, &confirmed);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(confirmed.status(), v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM);
  ASSERT_EQ(confirmed.decisions_size(), 2);
  EXPECT_EQ(confirmed.decisions(0).kind(), v1::DECISION_KIND_REASONABLE_GROUNDS);
  const v1::Decision& cg_decision = confirmed.decisions(1);
  EXPECT_EQ(cg_decision.kind(), v1::DECISION_KIND_CONCLUSIVE_GROUNDS);
  EXPECT_TRUE(cg_decision.positive());
  EXPECT_TRUE(cg_decision.reflection_period_waived());
  EXPECT_EQ(cg_decision.waiver_reasons(), conclusive.waiver_reasons());
  EXPECT_EQ(cg_decision.decided_by(), decider.user_id);
  EXPECT_LT(cg_decision.decide_time().seconds(), confirmed.reflection_period_end().seconds());
  s = c.identification->ListDueDecisions(Ctx(decider.token).get(), due_request, &due);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(due.decisions_size(), 0) << "nothing is due on a confirmed victim: " << due.DebugString();
  // No duplicate and no pending proceedings: no alert names the case.
  v1::ListAlertsResponse alerts;
  s = c.cases->ListAlerts(Ctx(decider.token).get(), v1::ListAlertsRequest(), &alerts);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(alerts.alerts_size(), 0) << alerts.DebugString();

  // ------------------------------------------------------------ 5. timeline
  v1::ListTimelineRequest timeline_request;
  timeline_request.set_case_id(case_id);
  v1::ListTimelineResponse responder_timeline, decider_timeline;
  s = c.cases->ListTimeline(Ctx(responder.token).get(), timeline_request, &responder_timeline);
  ASSERT_TRUE(s.ok()) << Describe(s);
  s = c.cases->ListTimeline(Ctx(decider.token).get(), timeline_request, &decider_timeline);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(responder_timeline.next_page_token().empty());
  EXPECT_THAT(KindsOf(responder_timeline),
              ElementsAre(v1::TIMELINE_EVENT_OPENED, v1::TIMELINE_EVENT_SCREENED,
                          v1::TIMELINE_EVENT_ACCESS_GRANTED,
                          v1::TIMELINE_EVENT_STATUS_CHANGED,    // referral
                          v1::TIMELINE_EVENT_STATUS_CHANGED,    // reasonable grounds
                          v1::TIMELINE_EVENT_STATUS_CHANGED));  // conclusive grounds
  EXPECT_EQ(KindsOf(decider_timeline), KindsOf(responder_timeline));
  if (responder_timeline.events_size() == 6) {
    const auto& events = responder_timeline.events();
    for (int i = 1; i < 6; ++i) EXPECT_GT(events[i].sequence(), events[i - 1].sequence());
    for (int i = 0; i < 4; ++i) EXPECT_EQ(events[i].actor_id(), responder.user_id) << i;
    for (int i = 4; i < 6; ++i) {
      EXPECT_EQ(events[i].actor_id(), decider.user_id) << i;
      EXPECT_EQ(events[i].actor_organisation_id(), authority.organisation_id) << i;
    }
    EXPECT_THAT(events[3].summary(), HasSubstr("IDENTIFICATION_STATUS_PRESUMED_VICTIM"));
    EXPECT_THAT(events[3].summary(), HasSubstr(authority.organisation_id));
    EXPECT_THAT(events[4].summary(), HasSubstr("IDENTIFICATION_STATUS_REASONABLE_GROUNDS"));
    EXPECT_THAT(events[5].summary(), HasSubstr("IDENTIFICATION_STATUS_CONFIRMED_VICTIM"));
    EXPECT_THAT(events[5].summary(), HasSubstr("reflection period waived"));
    EXPECT_EQ(events[4].detail(), reasonable.reasons());
    for (const v1::TimelineEvent& e : events) {
      EXPECT_EQ(e.summary().find(token), std::string::npos) << "a summary holds the name";
    }
  }

  // ------------------------------------------------------------ 7a. another organisation
  // Done before the audit query so that its denial is in the log.
  v1::Identification hidden;
  grpc::Status denied =
      c.identification->GetIdentification(Ctx(outsider.token).get(), get_ident, &hidden);
  EXPECT_EQ(denied.error_code(), StatusCode::NOT_FOUND) << Describe(denied);
  EXPECT_EQ(hidden.status(), v1::IDENTIFICATION_STATUS_UNSPECIFIED);
  EXPECT_EQ(hidden.decisions_size(), 0);
  v1::GetIdentificationRequest get_missing;
  get_missing.set_case_id(std::string(32, '0'));
  grpc::Status missing =
      c.identification->GetIdentification(Ctx(outsider.token).get(), get_missing, &hidden);
  EXPECT_EQ(missing.error_code(), StatusCode::NOT_FOUND) << Describe(missing);
  EXPECT_EQ(missing.error_message(), denied.error_message())
      << "a denial must look like a missing case";

  v1::SearchCasesRequest search;
  search.set_name(full_name);
  v1::SearchCasesResponse found;
  s = c.cases->SearchCases(Ctx(outsider.token).get(), search, &found);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(found.cases_size(), 0) << "another NGO finds the subject by name";
  // Control: the same search finds the case for the responder.
  s = c.cases->SearchCases(Ctx(responder.token).get(), search, &found);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(found.cases_size(), 1);
  EXPECT_EQ(found.cases(0).id(), case_id);
  EXPECT_EQ(found.cases(0).identification_status(), v1::IDENTIFICATION_STATUS_CONFIRMED_VICTIM);

  // ------------------------------------------------------------ 6. audit
  std::vector<v1::AuditEntry> entries;
  ASSERT_NO_FATAL_FAILURE(QueryCaseAudit(c, auditor, case_id, &entries));
  const std::string listing = DescribeEntries(entries);
  for (const v1::AuditEntry& e : entries) EXPECT_EQ(e.case_id(), case_id) << listing;
  const auto kAllowed = v1::AUDIT_OUTCOME_ALLOWED;
  const auto kDenied = v1::AUDIT_OUTCOME_DENIED;
  EXPECT_EQ(CountEntries(entries, "identification.screen", kAllowed, responder.user_id), 1) << listing;
  EXPECT_EQ(CountEntries(entries, "identification.refer", kAllowed, responder.user_id), 1) << listing;
  EXPECT_GE(CountEntries(entries, "case.read", kAllowed, decider.user_id), 1) << listing;
  EXPECT_EQ(CountEntries(entries, "identification.decide_reasonable_grounds", kAllowed,
                         decider.user_id), 1) << listing;
  // The responder's attempt to decide was an access denial.
  EXPECT_EQ(CountEntries(entries, "identification.decide_reasonable_grounds", kDenied,
                         responder.user_id), 1) << listing;
  // The early conclusive decision was refused by a rule, not for lack of
  // access: only access denials are audited, so it left no entry, and the
  // one conclusive-grounds entry is the waived decision.
  EXPECT_EQ(CountEntries(entries, "identification.decide_conclusive_grounds", kAllowed,
                         decider.user_id), 1) << listing;
  EXPECT_EQ(CountEntries(entries, "identification.decide_conclusive_grounds", kDenied,
                         decider.user_id), 0) << listing;
  // The other NGO's read was a denial.
  EXPECT_EQ(CountEntries(entries, "identification.read", kDenied, outsider.user_id), 1) << listing;
  EXPECT_EQ(CountEntries(entries, "identification.read", kAllowed, outsider.user_id), 0) << listing;
  for (const v1::AuditEntry& e : entries) {
    if (e.outcome() == kDenied) {
      EXPECT_EQ(e.classes_size(), 0) << "a denial disclosed data\n" << listing;
    }
  }

  v1::VerifyAuditChainResponse verified;
  s = c.audit->VerifyAuditChain(Ctx(auditor.token).get(), v1::VerifyAuditChainRequest(), &verified);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(verified.ok()) << "chain breaks at " << verified.first_bad_sequence() << ": "
                             << verified.problem();
  EXPECT_GE(verified.entries_checked(), entries.size());

  // ------------------------------------------------------------ 7b. nothing on disk
  client.reset();
  const int status = havend.Terminate();
  EXPECT_TRUE(ExitedCleanly(status)) << "on SIGTERM havend " << DescribeWaitStatus(status) << "\n"
                                     << havend.ReadLog();
  // Control: the scan does see what havend writes in plain (the case id in
  // the audit entries), so an absent canary means absent.
  EXPECT_FALSE(FilesContaining(havend.data_dir(), {case_id}).empty())
      << "the scan cannot see havend's store";
  const std::vector<std::string> hits =
      FilesContaining(havend.dir(), {token, Lower(token), "Canary" + token});
  EXPECT_TRUE(hits.empty()) << "the subject's canary name is on disk after SIGTERM:\n"
                            << ::testing::PrintToString(hits);
}

}  // namespace
}  // namespace haven::e2e
