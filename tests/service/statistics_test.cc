// StatisticsService: analysts only, every query audited, counts that move
// with the case in its own transaction and survive its erasure, no case
// id anywhere, reports and exports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "haven/v1/identification.grpc.pb.h"
#include "haven/v1/records.pb.h"
#include "haven/v1/statistics.grpc.pb.h"
#include "storage/access/vault.h"
#include "storage/ids.h"
#include "storage/store.h"
#include "tests/service/service_fixture.h"

namespace haven::testing {
namespace {

namespace v1 = haven::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCanary[] = "Zyxwvutsrq";

class StatisticsTest : public ServiceTest {
 protected:
  void Configure(v1::ServerConfig* config) override {
    config->set_statistics_suppression_threshold(3);
    config->set_statistics_export_k(2);
  }

  void SetUp() override {
    ServiceTest::SetUp();
    statistics_ = v1::StatisticsService::NewStub(channel_);
    identification_ = v1::IdentificationService::NewStub(channel_);
    ngo_ = NewOrganisation(v1::ORGANISATION_TYPE_NGO);
    caseworker_ = NewUser(ngo_, v1::ROLE_CASEWORKER);
    analyst_ = NewUser(NewOrganisation(v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY),
                       v1::ROLE_ANALYST);
  }

  // A case whose subject has `sex`, is exploited in `form` and was
  // recruited in `recruited_in`.
  std::string CaseOf(v1::Sex sex, v1::ExploitationForm form, const std::string& region = "NL-NH",
                     const std::vector<std::string>& recruited_in = {}) {
    v1::CreateCaseRequest req;
    *req.mutable_subject() = SampleSubject(absl::StrCat(kCanary, next_++));
    req.mutable_subject()->set_sex(sex);
    v1::Case created;
    grpc::Status s = cases_->CreateCase(As(caseworker_).get(), req, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    ids_.push_back(created.id());
    v1::SetExploitationProfileRequest profile;
    profile.set_case_id(created.id());
    profile.mutable_profile()->add_forms(form);
    profile.mutable_profile()->add_means_of_control(v1::MEANS_OF_CONTROL_DEBT_BONDAGE);
    profile.mutable_profile()->add_countries_of_exploitation("NL");
    for (const std::string& c : recruited_in) profile.mutable_profile()->add_countries_of_recruitment(c);
    profile.mutable_profile()->set_region_of_identification(region);
    v1::ExploitationProfile stored;
    s = identification_->SetExploitationProfile(As(caseworker_).get(), profile, &stored);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created.id();
  }

  v1::GetCountsResponse Counts(const std::vector<std::string>& dims) {
    v1::GetCountsRequest req;
    for (const std::string& d : dims) req.add_group_by(d);
    v1::GetCountsResponse out;
    grpc::Status s = statistics_->GetCounts(As(analyst_, "statistics").get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  static int64_t CountOf(const v1::GetCountsResponse& r, const std::vector<std::string>& keys) {
    for (const v1::CountRow& row : r.rows()) {
      if (std::vector<std::string>(row.keys().begin(), row.keys().end()) == keys) {
        return row.suppressed() ? -1 : row.count();
      }
    }
    return -2;
  }

  std::unique_ptr<v1::StatisticsService::Stub> statistics_;
  std::unique_ptr<v1::IdentificationService::Stub> identification_;
  std::string ngo_;
  Actor caseworker_;
  Actor analyst_;
  std::vector<std::string> ids_;
  int next_ = 0;
};

TEST_F(StatisticsTest, OnlyAnalystsReadStatisticsAndEveryQueryIsAudited) {
  CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_FORCED_LABOUR);
  v1::GetCountsRequest req;
  req.add_group_by("sex");
  v1::GetCountsResponse out;
  for (v1::Role role : {v1::ROLE_CASEWORKER, v1::ROLE_SUPERVISOR, v1::ROLE_DECISION_MAKER,
                        v1::ROLE_AUDITOR, v1::ROLE_ADMINISTRATOR,
                        v1::ROLE_LAW_ENFORCEMENT_LIAISON}) {
    Actor someone = NewUser(ngo_, role);
    grpc::Status s = statistics_->GetCounts(As(someone, "statistics").get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << v1::Role_Name(role);
    EXPECT_EQ(out.rows_size(), 0);
    EXPECT_EQ(LastAudit().action(), "statistics.counts");
    EXPECT_EQ(LastAudit().outcome(), v1::AUDIT_OUTCOME_DENIED);
  }
  v1::GetCountsRequest none;
  EXPECT_EQ(statistics_->GetCounts(As(analyst_, "statistics").get(), none, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(statistics_->GetCounts(As(analyst_, "statistics").get(), req, &out).ok());
  v1::AuditEntry entry = LastAudit();
  EXPECT_EQ(entry.action(), "statistics.counts");
  EXPECT_EQ(entry.record(), "statistics/sex");
  EXPECT_EQ(entry.outcome(), v1::AUDIT_OUTCOME_ALLOWED);
  EXPECT_EQ(entry.principal_id(), analyst_.user_id);
  EXPECT_EQ(entry.case_id(), "");
}

TEST_F(StatisticsTest, CountsMoveWithTheCaseAndNameNoCase) {
  for (int i = 0; i < 4; ++i) CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION);
  for (int i = 0; i < 5; ++i) CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_FORCED_LABOUR);
  v1::GetCountsResponse r = Counts({"sex", "form"});
  EXPECT_EQ(CountOf(r, {"female", "sexual_exploitation"}), 4);
  EXPECT_EQ(CountOf(r, {"male", "forced_labour"}), 5);
  EXPECT_EQ(CountOf(r, {"*", "*"}), 9);
  // A change of the profile moves the count in the same passage.
  v1::SetExploitationProfileRequest change;
  change.set_case_id(ids_[0]);
  change.mutable_profile()->add_forms(v1::EXPLOITATION_FORM_FORCED_LABOUR);
  v1::ExploitationProfile stored;
  ASSERT_TRUE(
      identification_->SetExploitationProfile(As(caseworker_).get(), change, &stored).ok());
  r = Counts({"sex", "form"});
  EXPECT_EQ(CountOf(r, {"*", "sexual_exploitation"}), 3);
  EXPECT_EQ(CountOf(r, {"*", "forced_labour"}), 6);
  EXPECT_EQ(CountOf(r, {"female", "forced_labour"}), -1) << "one case: suppressed";
  EXPECT_EQ(CountOf(r, {"female", "sexual_exploitation"}), -1) << "its complement";
  // And so does the subject's sex.
  v1::UpdateCaseRequest update;
  update.mutable_case_()->set_id(ids_[1]);
  update.mutable_case_()->mutable_subject()->set_sex(v1::SEX_MALE);
  update.mutable_update_mask()->add_paths("subject.sex");
  v1::Case updated;
  grpc::Status s = cases_->UpdateCase(As(caseworker_).get(), update, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  r = Counts({"sex"});
  EXPECT_EQ(CountOf(r, {"female"}), 3);
  EXPECT_EQ(CountOf(r, {"male"}), 6);
  // Nothing in an answer names a case.
  const std::string bytes = r.SerializeAsString() + Counts({"form", "region", "year"}).SerializeAsString();
  for (const std::string& id : ids_) EXPECT_THAT(bytes, Not(HasSubstr(id)));
  EXPECT_THAT(bytes, Not(HasSubstr(kCanary)));
}

TEST_F(StatisticsTest, CountryOfRecruitmentIsADimension) {
  for (int i = 0; i < 3; ++i) {
    CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION, "NL-NH", {"RO"});
  }
  for (int i = 0; i < 4; ++i) CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_FORCED_LABOUR, "NL-NH", {"NG"});
  for (int i = 0; i < 3; ++i) {
    CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_FORCED_LABOUR, "NL-NH", {"RO", "BG"});
  }
  for (int i = 0; i < 3; ++i) CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_FORCED_LABOUR);
  v1::GetCountsResponse r = Counts({"recruitment_country"});
  EXPECT_EQ(CountOf(r, {"RO"}), 3);
  EXPECT_EQ(CountOf(r, {"NG"}), 4);
  EXPECT_EQ(CountOf(r, {"multiple"}), 3) << "recruited in two countries: counted once";
  EXPECT_EQ(CountOf(r, {"none"}), 3);
  EXPECT_EQ(CountOf(r, {"*"}), 13);
  r = Counts({"recruitment_country", "sex"});
  EXPECT_EQ(CountOf(r, {"RO", "female"}), 3);
  EXPECT_EQ(CountOf(r, {"RO", "male"}), 0);
  EXPECT_EQ(CountOf(r, {"*", "male"}), 7);
  EXPECT_EQ(LastAudit().record(), "statistics/recruitment_country,sex");
}

TEST_F(StatisticsTest, ASmallCellIsSuppressedWithItsComplements) {
  for (int i = 0; i < 6; ++i) CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION);
  for (int i = 0; i < 5; ++i) CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_FORCED_LABOUR);
  for (int i = 0; i < 4; ++i) CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_FORCED_LABOUR);
  CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION);
  v1::GetCountsResponse r = Counts({"sex", "form"});
  EXPECT_EQ(r.threshold(), 3);
  EXPECT_EQ(CountOf(r, {"male", "sexual_exploitation"}), -1) << "one case: suppressed";
  EXPECT_GE(r.suppressed_cells(), 4) << "with complements in its row and column";
  EXPECT_EQ(CountOf(r, {"*", "*"}), 16);
}

TEST_F(StatisticsTest, SlicesChooseRowsOfTheTableNeverTheCasesCounted) {
  for (int i = 0; i < 4; ++i) CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_FORCED_LABOUR);
  v1::GetCountsRequest req;
  req.add_group_by("sex");
  v1::CountsSlice* slice = req.add_slices();
  slice->set_dimension("region");
  slice->add_values("NL-NH");
  v1::GetCountsResponse out;
  grpc::Status s = statistics_->GetCounts(As(analyst_, "statistics").get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("slices"));
  req.add_group_by("region");
  ASSERT_TRUE(statistics_->GetCounts(As(analyst_, "statistics").get(), req, &out).ok());
  for (const v1::CountRow& row : out.rows()) {
    EXPECT_TRUE(row.keys(1) == "NL-NH" || row.keys(1) == "*");
  }
}

TEST_F(StatisticsTest, StatisticsSurviveErasureAndNoIdentifyingByteRemains) {
  for (int i = 0; i < 4; ++i) CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION);
  for (int i = 0; i < 4; ++i) CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_FORCED_LABOUR, "NL-ZH");
  const std::vector<std::string> dims = {"sex", "form", "region"};
  const v1::GetCountsResponse before = Counts(dims);
  const std::string erased = ids_[2];

  Actor supervisor = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  Actor second = NewUser(ngo_, v1::ROLE_SUPERVISOR);
  v1::RequestErasureRequest request;
  request.set_case_id(erased);
  request.set_reason("the subject asked");
  v1::Case requested;
  ASSERT_TRUE(cases_->RequestErasure(As(supervisor).get(), request, &requested).ok());
  v1::EraseCaseRequest erase;
  erase.set_case_id(erased);
  v1::EraseCaseResponse done;
  ASSERT_TRUE(cases_->EraseCase(As(second).get(), erase, &done).ok());

  const v1::GetCountsResponse after = Counts(dims);
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString()) << "the counts do not change";

  // What is left of the erased case: no statistics record under its id, no
  // link to one, nothing of the subject's in any statistics record.
  storage::Store& store = server_->vault().store();
  absl::StatusOr<std::string> raw = ParseId(erased, "case_id");
  ASSERT_TRUE(raw.ok());
  std::vector<std::pair<std::string, std::string>> records;
  ASSERT_TRUE(store.Scan(storage::Cf::kCaseStatistics, "", "",
                         [&](absl::string_view k, absl::string_view v) {
                           records.emplace_back(std::string(k), std::string(v));
                           return true;
                         })
                  .ok());
  EXPECT_EQ(records.size(), ids_.size());
  for (const auto& [key, sealed] : records) {
    for (const std::string& id : ids_) {
      absl::StatusOr<std::string> r = ParseId(id, "id");
      EXPECT_THAT(key, Not(HasSubstr(*r)));
      EXPECT_THAT(sealed, Not(HasSubstr(*r)));
      EXPECT_THAT(sealed, Not(HasSubstr(id)));
    }
    EXPECT_THAT(sealed, Not(HasSubstr(kCanary)));
    EXPECT_THAT(sealed, Not(HasSubstr("Okafor")));
  }
  int left = 0;
  ASSERT_TRUE(store.Scan(storage::Cf::kCaseData, *raw, "",
                         [&](absl::string_view, absl::string_view) {
                           ++left;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(left, 0) << "the link to the statistics record went with the case's data";
}

TEST_F(StatisticsTest, ReportsAndExportsStateTheirProtection) {
  for (int i = 0; i < 5; ++i) CaseOf(v1::SEX_FEMALE, v1::EXPLOITATION_FORM_SEXUAL_EXPLOITATION);
  for (int i = 0; i < 5; ++i) CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_FORCED_LABOUR);
  CaseOf(v1::SEX_MALE, v1::EXPLOITATION_FORM_ORGAN_REMOVAL);
  const int year = static_cast<int>(absl::ToCivilYear(clock_.Now(), absl::UTCTimeZone()).year());
  for (const char* report : {"unodc-glotip", "national-annual"}) {
    v1::GetReportRequest req;
    req.set_report(report);
    req.set_year(year);
    v1::GetReportResponse out;
    grpc::Status s = statistics_->GetReport(As(analyst_, "statistics").get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_GE(out.tables_size(), 4);
    EXPECT_EQ(LastAudit().action(), "statistics.report");
    for (const v1::StatisticsTable& t : out.tables()) {
      EXPECT_FALSE(t.title().empty());
      EXPECT_EQ(t.counts().threshold(), 3);
      for (const v1::CountRow& row : t.counts().rows()) {
        EXPECT_TRUE(row.keys(0) == std::to_string(year) || row.keys(0) == "*");
      }
    }
  }
  v1::ExportDatasetRequest req;
  req.set_format("ctdc");
  v1::ExportDatasetResponse out;
  grpc::Status s = statistics_->ExportDataset(As(analyst_, "statistics").get(), req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.k(), 2);
  EXPECT_EQ(out.rows() + out.rows_suppressed(), 11);
  EXPECT_GE(out.rows_suppressed(), 1) << "the one organ-removal case stands alone";
  EXPECT_THAT(out.csv(), HasSubstr("yearOfRegistration,Datasource,gender,ageBroad"));
  EXPECT_THAT(out.csv(), Not(HasSubstr(kCanary)));
  EXPECT_EQ(LastAudit().action(), "statistics.export");
  v1::GetCountsResponse series;
  v1::GetTimeSeriesRequest by_month;
  by_month.set_by("sex");
  ASSERT_TRUE(statistics_->GetTimeSeries(As(analyst_, "statistics").get(), by_month, &series).ok());
  EXPECT_EQ(series.dimensions(0), "month");
}

}  // namespace
}  // namespace haven::testing
