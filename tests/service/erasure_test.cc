// Erasure on a real disk: once a case is erased and havend's background
// purge has run, no file of the data directory holds the case's name keys,
// its wrapped data key, the details of the hotline contact escalated to it,
// or the subject's canary name; and recording the same person again leads
// nowhere near the erased case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "haven/v1/hotline.grpc.pb.h"
#include "haven/v1/records.pb.h"
#include "storage/ids.h"
#include "storage/store.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

constexpr char kCanaryGiven[] = "Zorabel";
constexpr char kCanaryFamily[] = "Quendrisova";
constexpr char kCanaryPhone[] = "+40 744 917 263";

class ErasureTest : public ServiceTest {
 protected:
  bool OnDisk() const override { return true; }

  void SetUp() override {
    ServiceTest::SetUp();
    hotline_ = v1::HotlineService::NewStub(channel_);
    hotline_org_ = NewOrganisation(v1::ORGANISATION_TYPE_HOTLINE);
    operator_ = NewUser(hotline_org_, v1::ROLE_HOTLINE_OPERATOR);
    requester_ = NewUser(hotline_org_, v1::ROLE_SUPERVISOR);
    approver_ = NewUser(hotline_org_, v1::ROLE_SUPERVISOR);
    decider_ = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY),
                       v1::ROLE_DECISION_MAKER);
  }

  void TearDown() override {
    hotline_.reset();
    ServiceTest::TearDown();
  }

  // Logs a call with the caller's details and escalates it to a new case
  // for the canary subject; returns the contact.
  v1::Contact EscalatedCall() {
    v1::LogContactRequest log;
    v1::Contact& c = *log.mutable_contact();
    c.set_channel(v1::CONTACT_CHANNEL_PHONE);
    c.mutable_start_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() - absl::Minutes(10)));
    c.mutable_end_time()->set_seconds(absl::ToUnixSeconds(clock_.Now() - absl::Minutes(2)));
    c.set_caller_type(v1::CALLER_TYPE_POTENTIAL_VICTIM);
    c.set_category(v1::CONTACT_CATEGORY_SUSPECTED_TRAFFICKING);
    c.set_urgency(v1::CONTACT_URGENCY_HIGH);
    c.mutable_caller_details()->set_name(std::string(kCanaryGiven) + " " + kCanaryFamily);
    c.mutable_caller_details()->set_phone_number(kCanaryPhone);
    c.set_notes(std::string("calls for ") + kCanaryGiven);
    v1::Contact logged;
    grpc::Status s = hotline_->LogContact(As(operator_).get(), log, &logged);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::EscalateContactRequest escalate;
    escalate.set_contact_id(logged.id());
    v1::Subject& subject = *escalate.mutable_subject();
    subject.set_given_name(kCanaryGiven);
    subject.set_family_name(kCanaryFamily);
    subject.mutable_date_of_birth()->set_year(2001);
    subject.mutable_date_of_birth()->set_month(4);
    subject.mutable_date_of_birth()->set_day(17);
    v1::Contact escalated;
    s = hotline_->EscalateContact(As(operator_).get(), escalate, &escalated);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return escalated;
  }

  absl::StatusOr<std::optional<std::string>> Raw(Cf cf, const std::string& key) {
    return server_->vault().store().Get(cf, key);
  }

  // The needles of `needles` found in some file of the data directory.
  std::vector<std::string> FoundOnDisk(const std::vector<std::string>& needles) {
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ + "/db")) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string content((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
      for (const std::string& needle : needles) {
        if (content.find(needle) != std::string::npos) {
          found.push_back(ToHex(needle) + " in " + entry.path().filename().string());
        }
      }
    }
    return found;
  }

  std::vector<v1::Alert> Duplicates() {
    return Alerts(decider_, v1::ALERT_KIND_POSSIBLE_DUPLICATE);
  }

  std::unique_ptr<v1::HotlineService::Stub> hotline_;
  std::string hotline_org_;
  Actor operator_;
  Actor requester_;
  Actor approver_;
  Actor decider_;
};

TEST_F(ErasureTest, AnErasedCaseLeavesNothingOnDiskThatLeadsBackToThePerson) {
  const v1::Contact contact = EscalatedCall();
  ASSERT_EQ(contact.case_id().size(), 32u);
  const std::string raw_case = *FromHex(contact.case_id(), "case_id");

  // What the store holds of the person, in the clear but keyed or sealed:
  // the name keys, the wrapped data keys, the contact's phone key and
  // sealed details.
  absl::StatusOr<std::optional<std::string>> stored = Raw(Cf::kCases, raw_case);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  v1::CaseRecord record;
  ASSERT_TRUE(record.ParseFromString(**stored));
  std::vector<std::string> needles(record.name_index_keys().begin(),
                                   record.name_index_keys().end());
  ASSERT_GE(needles.size(), 3u) << "two name tokens and the name with the date of birth";
  stored = Raw(Cf::kCaseKeys, raw_case);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  needles.push_back(**stored);
  stored = Raw(Cf::kContacts, *FromHex(contact.id(), "contact_id"));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  v1::ContactRecord contact_record;
  ASSERT_TRUE(contact_record.ParseFromString(**stored));
  ASSERT_FALSE(contact_record.phone_blind().empty());
  needles.push_back(contact_record.phone_blind());
  needles.push_back(contact_record.data_key().sealed_key());
  needles.push_back(contact_record.sealed_details().substr(0, 48));
  // The search finds them: they are in the log and files now.
  EXPECT_EQ(FoundOnDisk(needles).size(), needles.size());
  // Keys that RocksDB's own log or manifest might print as hex count too.
  for (size_t i = 0, n = needles.size(); i < n; ++i) {
    if (needles[i].size() > 32) continue;
    needles.push_back(absl::BytesToHexString(needles[i]));
    needles.push_back(absl::AsciiStrToUpper(needles.back()));
  }

  v1::RequestErasureRequest request;
  request.set_case_id(contact.case_id());
  request.set_reason("the person asked to be forgotten");
  v1::Case requested;
  ASSERT_TRUE(cases_->RequestErasure(As(requester_).get(), request, &requested).ok());
  v1::EraseCaseRequest erase;
  erase.set_case_id(contact.case_id());
  v1::EraseCaseResponse erased;
  grpc::Status s = cases_->EraseCase(As(approver_).get(), erase, &erased);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The contact escalated to it keeps its administrative record only.
  v1::GetContactRequest get;
  get.set_contact_id(contact.id());
  v1::Contact after;
  ASSERT_TRUE(hotline_->GetContact(As(operator_).get(), get, &after).ok());
  EXPECT_FALSE(after.has_caller_details());
  EXPECT_EQ(after.notes(), "");
  EXPECT_EQ(after.case_id(), contact.case_id());

  // havend's background purge, woken by the erasure, pushes all of it out
  // of the files on disk.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  std::vector<std::string> left = FoundOnDisk(needles);
  while (!left.empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
    left = FoundOnDisk(needles);
  }
  EXPECT_THAT(left, ::testing::IsEmpty());
  EXPECT_THAT(FoundOnDisk({kCanaryGiven, kCanaryFamily, kCanaryPhone}), ::testing::IsEmpty());

  // The same person, met again: a new case that no index ties to the
  // erased one, and no possible-duplicate alert that names it.
  const v1::Contact again = EscalatedCall();
  ASSERT_NE(again.case_id(), contact.case_id());
  EXPECT_THAT(Duplicates(), ::testing::IsEmpty());
  // (A third time, the two live cases are flagged: the alert works.)
  const v1::Contact third = EscalatedCall();
  std::vector<v1::Alert> duplicates = Duplicates();
  ASSERT_EQ(duplicates.size(), 1u);
  EXPECT_THAT(duplicates[0].case_ids(), ::testing::UnorderedElementsAre(again.case_id(),
                                                                         third.case_id()));
}

}  // namespace
}  // namespace haven::testing
