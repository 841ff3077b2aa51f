// The case file over an in-process channel: assignment, consent, linked
// persons, the timeline, closure and search.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class CaseFileTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    supervisor_ = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  }

  std::vector<v1::TimelineEvent> Timeline(const Actor& actor, const std::string& case_id) {
    v1::ListTimelineRequest req;
    req.set_case_id(case_id);
    v1::ListTimelineResponse resp;
    grpc::Status s = cases_->ListTimeline(As(actor).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.events().begin(), resp.events().end()};
  }

  std::string ngo_;
  Actor caseworker_, supervisor_;
};

TEST_F(CaseFileTest, SupervisorAssignsAndHandsOverWithinTheOrganisation) {
  v1::Case c = CreateCase(caseworker_);
  Actor second = NewUser(ngo_, v1::ROLE_CASEWORKER);
  v1::AssignCaseRequest req;
  req.set_case_id(c.id());
  req.add_assignee_ids(caseworker_.user_id);
  req.set_supervisor_id(supervisor_.user_id);
  v1::Case assigned;
  ASSERT_TRUE(cases_->AssignCase(As(supervisor_).get(), req, &assigned).ok());
  EXPECT_THAT(assigned.assignee_ids(), ElementsAre(caseworker_.user_id));
  EXPECT_EQ(assigned.supervisor_id(), supervisor_.user_id);

  req.clear_assignee_ids();
  req.add_assignee_ids(second.user_id);  // the hand-over
  ASSERT_TRUE(cases_->AssignCase(As(supervisor_).get(), req, &assigned).ok());
  EXPECT_THAT(assigned.assignee_ids(), ElementsAre(second.user_id));

  // Someone of another organisation cannot be assigned.
  Actor outsider = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  req.clear_assignee_ids();
  req.add_assignee_ids(outsider.user_id);
  EXPECT_EQ(cases_->AssignCase(As(supervisor_).get(), req, &assigned).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A caseworker cannot assign.
  EXPECT_EQ(cases_->AssignCase(As(caseworker_).get(), req, &assigned).error_code(),
            grpc::StatusCode::NOT_FOUND);

  std::vector<v1::TimelineEvent> events = Timeline(caseworker_, c.id());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind(), v1::TIMELINE_EVENT_OPENED);
  EXPECT_EQ(events[1].kind(), v1::TIMELINE_EVENT_ASSIGNED);
  EXPECT_EQ(events[2].kind(), v1::TIMELINE_EVENT_ASSIGNED);
  EXPECT_EQ(events[2].actor_id(), supervisor_.user_id);
}

TEST_F(CaseFileTest, ConsentIsRecordedPerPurposeAndCanBeWithdrawn) {
  v1::Case c = CreateCase(caseworker_);
  v1::RecordConsentRequest req;
  req.set_case_id(c.id());
  req.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  req.mutable_consent()->set_given(true);
  req.mutable_consent()->set_language("ro");
  req.mutable_consent()->set_interpreter_used(true);
  v1::Consent consent;
  ASSERT_TRUE(cases_->RecordConsent(As(caseworker_).get(), req, &consent).ok());
  EXPECT_EQ(consent.recorded_by(), caseworker_.user_id);
  EXPECT_EQ(consent.language(), "ro");

  req.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
  req.mutable_consent()->set_given(false);
  ASSERT_TRUE(cases_->RecordConsent(As(caseworker_).get(), req, &consent).ok());

  v1::WithdrawConsentRequest withdraw;
  withdraw.set_case_id(c.id());
  withdraw.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_SERVICE_PROVIDERS);
  ASSERT_TRUE(cases_->WithdrawConsent(As(caseworker_).get(), withdraw, &consent).ok());
  EXPECT_TRUE(consent.withdrawn());
  // A refusal cannot be withdrawn: there is nothing given.
  withdraw.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_LAW_ENFORCEMENT);
  EXPECT_EQ(cases_->WithdrawConsent(As(caseworker_).get(), withdraw, &consent).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListConsentsRequest list;
  list.set_case_id(c.id());
  v1::ListConsentsResponse consents;
  ASSERT_TRUE(cases_->ListConsents(As(caseworker_).get(), list, &consents).ok());
  ASSERT_EQ(consents.consents_size(), 2);
  EXPECT_TRUE(consents.consents(0).withdrawn());
  EXPECT_FALSE(consents.consents(1).given());

  // Missing language or an unknown purpose: nothing is written.
  uint64_t before = AuditSequence();
  req.mutable_consent()->clear_language();
  EXPECT_EQ(cases_->RecordConsent(As(caseworker_).get(), req, &consent).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  req.mutable_consent()->set_language("en");
  req.mutable_consent()->set_purpose(static_cast<v1::ConsentPurpose>(99));
  EXPECT_EQ(cases_->RecordConsent(As(caseworker_).get(), req, &consent).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(AuditSequence(), before);
}

TEST_F(CaseFileTest, LinkedPersonsAreRedactedLikeTheSubject) {
  v1::Case c = CreateCase(caseworker_);
  v1::LinkPersonRequest req;
  req.set_case_id(c.id());
  req.mutable_person()->set_relation(v1::PERSON_RELATION_FAMILY_MEMBER);
  req.mutable_person()->set_given_name("Ioana");
  req.mutable_person()->set_whereabouts("Village near the border");
  req.mutable_person()->set_protection_needed(true);
  v1::LinkedPerson person;
  ASSERT_TRUE(cases_->LinkPerson(As(caseworker_).get(), req, &person).ok());
  EXPECT_EQ(person.id().size(), 32u);

  // A service provider granted pseudonymous data sees the relation and the
  // protection flag, not who or where.
  std::string shelter = NewOrganisation(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
  Actor staff = NewUser(shelter, v1::ROLE_SERVICE_PROVIDER_STAFF);
  ASSERT_TRUE(GrantRead(caseworker_, c.id(), shelter, "shelter",
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS})
                  .ok());
  v1::ListLinkedPersonsRequest list;
  list.set_case_id(c.id());
  v1::ListLinkedPersonsResponse persons;
  ASSERT_TRUE(cases_->ListLinkedPersons(As(staff).get(), list, &persons).ok());
  ASSERT_EQ(persons.persons_size(), 1);
  EXPECT_EQ(persons.persons(0).relation(), v1::PERSON_RELATION_FAMILY_MEMBER);
  EXPECT_TRUE(persons.persons(0).protection_needed());
  EXPECT_EQ(persons.persons(0).given_name(), "");
  EXPECT_EQ(persons.persons(0).whereabouts(), "");
}

TEST_F(CaseFileTest, TimelineShowsOnlyTheClassesTheCallerMaySee) {
  v1::Case c = CreateCase(caseworker_);
  v1::CloseCaseRequest close;
  close.set_case_id(c.id());
  close.set_reason(v1::CLOSURE_REASON_SERVICES_COMPLETED);
  close.set_note("Moved to family in the north");
  v1::Case closed;
  ASSERT_TRUE(cases_->CloseCase(As(caseworker_).get(), close, &closed).ok());
  EXPECT_EQ(closed.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(closed.closure_reason(), v1::CLOSURE_REASON_SERVICES_COMPLETED);
  EXPECT_EQ(cases_->CloseCase(As(caseworker_).get(), close, &closed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  std::vector<v1::TimelineEvent> mine = Timeline(caseworker_, c.id());
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[1].kind(), v1::TIMELINE_EVENT_CLOSED);
  EXPECT_EQ(mine[1].detail(), "Moved to family in the north");
  EXPECT_THAT(mine[1].summary(), HasSubstr("SERVICES_COMPLETED"));

  std::string police = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  Actor liaison = NewUser(police, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  ASSERT_TRUE(
      GrantRead(caseworker_, c.id(), police, "investigation", {v1::CONFIDENTIALITY_ADMINISTRATIVE})
          .ok());
  std::vector<v1::TimelineEvent> theirs = Timeline(liaison, c.id());
  ASSERT_EQ(theirs.size(), 3u);
  EXPECT_EQ(theirs[1].kind(), v1::TIMELINE_EVENT_CLOSED);
  EXPECT_THAT(theirs[1].summary(), HasSubstr("SERVICES_COMPLETED"));
  EXPECT_EQ(theirs[1].detail(), "") << "narrative was not granted";
  EXPECT_EQ(theirs[2].kind(), v1::TIMELINE_EVENT_ACCESS_GRANTED);
}

TEST_F(CaseFileTest, SearchFindsOnlyCasesTheCallerMayRead) {
  v1::Case a = CreateCase(caseworker_);
  v1::Case b = CreateCase(caseworker_);
  Actor outsider = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  v1::Case theirs = CreateCase(outsider);
  v1::AssignCaseRequest assign;
  assign.set_case_id(b.id());
  assign.add_assignee_ids(caseworker_.user_id);
  v1::Case assigned;
  ASSERT_TRUE(cases_->AssignCase(As(supervisor_).get(), assign, &assigned).ok());

  auto ids = [&](const Actor& actor, v1::SearchCasesRequest req) {
    v1::SearchCasesResponse resp;
    grpc::Status s = cases_->SearchCases(As(actor).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const auto& c : resp.cases()) out.push_back(c.id());
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> ours = {a.id(), b.id()};
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(ids(caseworker_, {}), ours);
  EXPECT_EQ(ids(outsider, {}), std::vector<std::string>{theirs.id()});

  v1::SearchCasesRequest by_assignee;
  by_assignee.set_assignee_id(caseworker_.user_id);
  EXPECT_EQ(ids(caseworker_, by_assignee), std::vector<std::string>{b.id()});
  EXPECT_TRUE(ids(outsider, by_assignee).empty()) << "another organisation's assignments stay hidden";

  v1::SearchCasesRequest closed;
  closed.set_status(v1::CASE_STATUS_CLOSED);
  EXPECT_TRUE(ids(caseworker_, closed).empty());

  v1::SearchCasesRequest paged;
  paged.set_page_size(1);
  v1::SearchCasesResponse first;
  ASSERT_TRUE(cases_->SearchCases(As(caseworker_).get(), paged, &first).ok());
  ASSERT_EQ(first.cases_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  paged.set_page_token(first.next_page_token());
  v1::SearchCasesResponse second;
  ASSERT_TRUE(cases_->SearchCases(As(caseworker_).get(), paged, &second).ok());
  ASSERT_EQ(second.cases_size(), 1);
  EXPECT_NE(first.cases(0).id(), second.cases(0).id());
  EXPECT_EQ(LastAudit().action(), "case.search");
}

TEST_F(CaseFileTest, NameSearchMatchesSpellingVariantsOnlyWhereIdentityIsVisible) {
  v1::CreateCaseRequest req;
  *req.mutable_subject() = SampleSubject("Mohammed");
  req.mutable_subject()->set_family_name("Al-Hassan");
  v1::Case c;
  ASSERT_TRUE(cases_->CreateCase(As(caseworker_).get(), req, &c).ok());
  CreateCase(caseworker_, "Amina");

  auto found = [&](const Actor& actor, const std::string& name) {
    v1::SearchCasesRequest search;
    search.set_name(name);
    v1::SearchCasesResponse resp;
    grpc::Status s = cases_->SearchCases(As(actor).get(), search, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const auto& r : resp.cases()) ids.push_back(r.id());
    return ids;
  };
  EXPECT_EQ(found(caseworker_, "muhammad"), std::vector<std::string>{c.id()});
  EXPECT_EQ(found(caseworker_, "MOHAMED alhassan"), std::vector<std::string>{});  // "alhassan" is one token
  EXPECT_EQ(found(caseworker_, "Hassan Muhammad"), std::vector<std::string>{c.id()});
  EXPECT_TRUE(found(caseworker_, "Ivan").empty());

  // Another organisation cannot learn that the name exists here.
  Actor outsider = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);
  EXPECT_TRUE(found(outsider, "Mohammed").empty());
  // Nor can an organisation that may read the case but not who it is about.
  std::string police = NewOrganisation(v1::ORGANISATION_TYPE_LAW_ENFORCEMENT);
  Actor liaison = NewUser(police, v1::ROLE_LAW_ENFORCEMENT_LIAISON);
  ASSERT_TRUE(GrantRead(caseworker_, c.id(), police, "investigation",
                        {v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS})
                  .ok());
  EXPECT_TRUE(found(liaison, "Mohammed").empty());
  EXPECT_EQ(found(liaison, ""), std::vector<std::string>{c.id()}) << "the case itself is visible";

  // A renamed subject is found by the new name only.
  v1::UpdateCaseRequest rename;
  rename.mutable_case_()->set_id(c.id());
  rename.mutable_case_()->mutable_subject()->set_given_name("Yusuf");
  rename.mutable_update_mask()->add_paths("subject.given_name");
  v1::Case renamed;
  ASSERT_TRUE(cases_->UpdateCase(As(caseworker_).get(), rename, &renamed).ok());
  EXPECT_TRUE(found(caseworker_, "Mohammed").empty());
  EXPECT_EQ(found(caseworker_, "Youssef"), std::vector<std::string>{c.id()});
}

TEST_F(CaseFileTest, PossibleDuplicateIsToldToTheCompetentAuthorityAndNobodyElse) {
  std::string authority = NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY);
  Actor decision_maker = NewUser(authority, v1::ROLE_DECISION_MAKER);
  Actor other = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_CASEWORKER);

  v1::CreateCaseRequest first;
  *first.mutable_subject() = SampleSubject("José");
  first.mutable_subject()->set_family_name("García");
  v1::Case a;
  ASSERT_TRUE(cases_->CreateCase(As(caseworker_).get(), first, &a).ok());
  v1::CreateCaseRequest second = first;
  second.mutable_subject()->set_given_name("Jose");
  second.mutable_subject()->set_family_name("GARCIA");
  v1::Case b;
  ASSERT_TRUE(cases_->CreateCase(As(other).get(), second, &b).ok());
  // A different date of birth is a different person.
  second.mutable_subject()->mutable_date_of_birth()->set_year(1999);
  v1::Case unrelated;
  ASSERT_TRUE(cases_->CreateCase(As(other).get(), second, &unrelated).ok());

  v1::ListAlertsResponse alerts;
  ASSERT_TRUE(cases_->ListAlerts(As(decision_maker).get(), v1::ListAlertsRequest(), &alerts).ok());
  ASSERT_EQ(alerts.alerts_size(), 1);
  EXPECT_EQ(alerts.alerts(0).kind(), v1::ALERT_KIND_POSSIBLE_DUPLICATE);
  EXPECT_THAT(alerts.alerts(0).case_ids(), ::testing::UnorderedElementsAre(a.id(), b.id()));
  for (const Actor* actor : {&caseworker_, &other, &supervisor_}) {
    v1::ListAlertsResponse none;
    ASSERT_TRUE(cases_->ListAlerts(As(*actor).get(), v1::ListAlertsRequest(), &none).ok());
    EXPECT_EQ(none.alerts_size(), 0);
  }
  // The second organisation still cannot read the first case.
  v1::GetCaseRequest get;
  get.set_case_id(a.id());
  v1::Case read;
  EXPECT_EQ(cases_->GetCase(As(other).get(), get, &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CaseFileTest, AnotherOrganisationGetsNotFoundFromEveryCaseFileCall) {
  v1::Case c = CreateCase(caseworker_);
  Actor outsider = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_NGO), v1::ROLE_SUPERVISOR);
  uint64_t before = AuditSequence();
  std::vector<std::pair<const char*, grpc::Status>> calls;
  {
    v1::ListTimelineRequest req;
    req.set_case_id(c.id());
    v1::ListTimelineResponse resp;
    calls.emplace_back("timeline", cases_->ListTimeline(As(outsider).get(), req, &resp));
  }
  {
    v1::RecordConsentRequest req;
    req.set_case_id(c.id());
    req.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_STATISTICS);
    req.mutable_consent()->set_given(true);
    req.mutable_consent()->set_language("en");
    v1::Consent resp;
    calls.emplace_back("consent", cases_->RecordConsent(As(outsider).get(), req, &resp));
  }
  {
    v1::ListConsentsRequest req;
    req.set_case_id(c.id());
    v1::ListConsentsResponse resp;
    calls.emplace_back("consents", cases_->ListConsents(As(outsider).get(), req, &resp));
  }
  {
    v1::LinkPersonRequest req;
    req.set_case_id(c.id());
    req.mutable_person()->set_relation(v1::PERSON_RELATION_WITNESS);
    v1::LinkedPerson resp;
    calls.emplace_back("link", cases_->LinkPerson(As(outsider).get(), req, &resp));
  }
  {
    v1::AssignCaseRequest req;
    req.set_case_id(c.id());
    req.set_supervisor_id(outsider.user_id);
    v1::Case resp;
    calls.emplace_back("assign", cases_->AssignCase(As(outsider).get(), req, &resp));
  }
  {
    v1::CloseCaseRequest req;
    req.set_case_id(c.id());
    req.set_reason(v1::CLOSURE_REASON_DUPLICATE);
    v1::Case resp;
    calls.emplace_back("close", cases_->CloseCase(As(outsider).get(), req, &resp));
  }
  {
    v1::RequestErasureRequest req;
    req.set_case_id(c.id());
    req.set_reason("no reason");
    v1::Case resp;
    calls.emplace_back("erase", cases_->RequestErasure(As(outsider).get(), req, &resp));
  }
  for (const auto& [what, status] : calls) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << what;
    EXPECT_EQ(status.error_message(), "case not found") << what;
  }
  // Each refusal is audited as a denial, and nothing else was written.
  EXPECT_EQ(AuditSequence(), before + calls.size());
  EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(Timeline(caseworker_, c.id()).size(), 1u);
}

}  // namespace
}  // namespace haven::testing
