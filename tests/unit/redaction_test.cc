// Redaction: what a caller may not see is cleared, in any message, from the
// fields' classes; what is left is reported as disclosed.
#include "storage/access/redaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "haven/v1/audit.pb.h"
#include "haven/v1/case.pb.h"
#include "testdata/unclassified.pb.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const ClassSet kPseudonymous =
    ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS});

v1::Case SampleCase() {
  v1::Case c;
  c.set_id("0123456789abcdef0123456789abcdef");
  c.set_owning_organisation_id("fedcba9876543210fedcba9876543210");
  c.set_status(v1::CASE_STATUS_OPEN);
  c.mutable_create_time()->set_seconds(1'790'000'000);
  c.set_version(3);
  v1::Subject* s = c.mutable_subject();
  s->set_given_name("Amina");
  s->set_family_name("Canary");
  s->add_other_names("Mina");
  s->set_sex(v1::SEX_FEMALE);
  s->mutable_date_of_birth()->set_year(2004);
  s->mutable_date_of_birth()->set_month(5);
  s->set_estimated_age(19);
  s->add_citizenships("NG");
  s->add_languages("en");
  return c;
}

google::protobuf::FieldMask Mask(std::initializer_list<const char*> paths) {
  google::protobuf::FieldMask m;
  for (const char* p : paths) m.add_paths(p);
  return m;
}

TEST(RedactionTest, ClassOfReadsTheFieldOption) {
  const google::protobuf::Descriptor* d = v1::Subject::descriptor();
  EXPECT_EQ(ClassOf(d->FindFieldByName("given_name")), v1::CONFIDENTIALITY_IDENTIFYING);
  EXPECT_EQ(ClassOf(d->FindFieldByName("sex")), v1::CONFIDENTIALITY_PSEUDONYMOUS);
  EXPECT_EQ(ClassOf(v1::Case::descriptor()->FindFieldByName("subject")),
            v1::CONFIDENTIALITY_CLASS_UNSPECIFIED);
}

TEST(RedactionTest, PseudonymousViewKeepsDescriptionAndClearsIdentity) {
  v1::Case c = SampleCase();
  ClassSet disclosed = Redact(&c, kPseudonymous);
  EXPECT_EQ(c.id(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.status(), v1::CASE_STATUS_OPEN);
  EXPECT_TRUE(c.has_create_time());
  EXPECT_EQ(c.subject().sex(), v1::SEX_FEMALE);
  EXPECT_EQ(c.subject().estimated_age(), 19u);
  EXPECT_THAT(c.subject().citizenships(), ElementsAre("NG"));
  EXPECT_THAT(c.subject().languages(), ElementsAre("en"));
  EXPECT_EQ(c.subject().given_name(), "");
  EXPECT_EQ(c.subject().family_name(), "");
  EXPECT_EQ(c.subject().other_names_size(), 0);
  EXPECT_FALSE(c.subject().has_date_of_birth());
  EXPECT_EQ(c.SerializeAsString().find("Amina"), std::string::npos);
  EXPECT_EQ(disclosed, kPseudonymous);
}

TEST(RedactionTest, FullViewKeepsEverythingAndReportsWhatIsThere) {
  v1::Case c = SampleCase();
  const std::string before = c.SerializeAsString();
  ClassSet disclosed = Redact(&c, ClassSet::All());
  EXPECT_EQ(c.SerializeAsString(), before);
  EXPECT_EQ(disclosed, kPseudonymous | ClassSet::Of({v1::CONFIDENTIALITY_IDENTIFYING}));
}

TEST(RedactionTest, ClassifiedMessageFieldIsClearedWhole) {
  v1::Subject s = SampleCase().subject();
  // Date's own fields are administrative, but date_of_birth is identifying.
  Redact(&s, ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE}));
  EXPECT_FALSE(s.has_date_of_birth());
}

TEST(RedactionTest, DisclosedReportsOnlyClassesActuallyPresent) {
  v1::Case c;
  c.set_id("x");
  EXPECT_EQ(Redact(&c, ClassSet::All()), ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE}));
  v1::Case empty;
  EXPECT_TRUE(Redact(&empty, ClassSet::All()).empty());
}

TEST(RedactionTest, NothingVisibleClearsEverything) {
  v1::Case c = SampleCase();
  EXPECT_TRUE(Redact(&c, ClassSet()).empty());
  EXPECT_EQ(c.id(), "");
  EXPECT_EQ(c.subject().given_name(), "");
  EXPECT_EQ(c.subject().sex(), v1::SEX_UNSPECIFIED);
  EXPECT_TRUE(ClassesPresent(c).empty());
}

TEST(RedactionTest, UnclassifiedScalarIsClearedEvenWhenEverythingIsVisible) {
  haven::unittest::Unclassified m;
  m.set_id("kept");
  m.set_note("Amina lives at the canary address");
  ClassSet disclosed = Redact(&m, ClassSet::All());
  EXPECT_EQ(m.id(), "kept");
  EXPECT_EQ(m.note(), "") << "a field nobody classified must never be disclosed";
  EXPECT_EQ(disclosed, ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE}));
}

TEST(RedactionTest, UnclassifiedMessageOfAnotherPackageIsWalkedAndItsFieldsCleared) {
  haven::unittest::Nested m;
  m.mutable_inner()->set_name("Amina");
  m.mutable_inner()->set_forgotten("canary");
  m.add_more()->set_name("Mina");
  m.add_more()->set_forgotten("canary");
  m.mutable_seen()->set_seconds(5);
  ClassSet disclosed = Redact(&m, ClassSet::All());
  EXPECT_EQ(m.inner().name(), "Amina");
  EXPECT_EQ(m.inner().forgotten(), "");
  EXPECT_EQ(m.more(0).name(), "Mina");
  EXPECT_EQ(m.more(1).forgotten(), "");
  EXPECT_EQ(m.seen().seconds(), 0);
  EXPECT_EQ(disclosed, ClassSet::Of({v1::CONFIDENTIALITY_IDENTIFYING}));
}

TEST(RedactionTest, ClassesPresentChangesNothing) {
  v1::Case c = SampleCase();
  const std::string before = c.SerializeAsString();
  EXPECT_EQ(ClassesPresent(c), kPseudonymous | ClassSet::Of({v1::CONFIDENTIALITY_IDENTIFYING}));
  EXPECT_EQ(c.SerializeAsString(), before);
  v1::Subject only_sex;
  only_sex.set_sex(v1::SEX_MALE);
  EXPECT_EQ(ClassesPresent(only_sex), ClassSet::Of({v1::CONFIDENTIALITY_PSEUDONYMOUS}));
}

TEST(RedactionTest, ClassesOfPathsForAClassifiedField) {
  absl::StatusOr<ClassSet> classes = ClassesOfPaths(v1::Subject::descriptor(), Mask({"given_name"}));
  HAVEN_ASSERT_OK(classes);
  EXPECT_EQ(*classes, ClassSet::Of({v1::CONFIDENTIALITY_IDENTIFYING}));
}

TEST(RedactionTest, ClassesOfPathsUnionsEveryPath) {
  absl::StatusOr<ClassSet> classes =
      ClassesOfPaths(v1::Case::descriptor(), Mask({"subject.sex", "subject.date_of_birth", "id"}));
  HAVEN_ASSERT_OK(classes);
  EXPECT_EQ(*classes, ClassSet::Of({v1::CONFIDENTIALITY_ADMINISTRATIVE, v1::CONFIDENTIALITY_PSEUDONYMOUS,
                                    v1::CONFIDENTIALITY_IDENTIFYING}));
}

TEST(RedactionTest, ClassesOfPathsOfAnUnclassifiedMessageCoverAllItsFields) {
  absl::StatusOr<ClassSet> classes = ClassesOfPaths(v1::Case::descriptor(), Mask({"subject"}));
  HAVEN_ASSERT_OK(classes);
  EXPECT_EQ(*classes, ClassSet::Of({v1::CONFIDENTIALITY_PSEUDONYMOUS, v1::CONFIDENTIALITY_IDENTIFYING}));
}

TEST(RedactionTest, ClassesOfPathsBelowAClassifiedMessageFieldHaveThatFieldsClass) {
  // "subject.date_of_birth.year" exists; writing it writes identifying data.
  absl::StatusOr<ClassSet> classes =
      ClassesOfPaths(v1::Case::descriptor(), Mask({"subject.date_of_birth.year"}));
  HAVEN_ASSERT_OK(classes);
  EXPECT_EQ(*classes, ClassSet::Of({v1::CONFIDENTIALITY_IDENTIFYING}));
}

TEST(RedactionTest, ClassesOfPathsRejectsAnUnknownPathNamingIt) {
  EXPECT_THAT(ClassesOfPaths(v1::Subject::descriptor(), Mask({"given_name", "nickname"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nickname")));
  EXPECT_THAT(ClassesOfPaths(v1::Case::descriptor(), Mask({"subject.shoe_size"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("subject.shoe_size")));
  EXPECT_THAT(ClassesOfPaths(v1::Subject::descriptor(), Mask({"given_name.first"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("given_name.first")));
  EXPECT_THAT(ClassesOfPaths(v1::Subject::descriptor(), Mask({""})),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST(RedactionTest, ClassesOfAnEmptyMaskIsEmpty) {
  absl::StatusOr<ClassSet> classes = ClassesOfPaths(v1::Subject::descriptor(), Mask({}));
  HAVEN_ASSERT_OK(classes);
  EXPECT_TRUE(classes->empty());
}

TEST(RedactionTest, UnknownFieldsAreClearedAtEveryDepthWhateverTheCallerMaySee) {
  v1::Case c = SampleCase();
  auto smuggle = [](google::protobuf::Message* m) {
    m->GetReflection()->MutableUnknownFields(m)->AddLengthDelimited(100, "smuggled");
  };
  smuggle(&c);
  smuggle(c.mutable_subject());
  smuggle(c.mutable_subject()->mutable_date_of_birth());
  v1::SearchCasesResponse list;  // a repeated message field
  *list.add_cases() = c;
  *list.add_cases() = c;
  smuggle(&list);
  for (ClassSet visible : {ClassSet::All(), kPseudonymous, ClassSet()}) {
    v1::SearchCasesResponse redacted = list;
    Redact(&redacted, visible);
    EXPECT_EQ(redacted.GetReflection()->GetUnknownFields(redacted).field_count(), 0);
    for (const v1::Case& each : redacted.cases()) {
      EXPECT_EQ(each.GetReflection()->GetUnknownFields(each).field_count(), 0);
      EXPECT_EQ(each.subject().GetReflection()->GetUnknownFields(each.subject()).field_count(), 0);
      EXPECT_EQ(each.subject().date_of_birth().GetReflection()
                    ->GetUnknownFields(each.subject().date_of_birth())
                    .field_count(),
                0);
    }
  }
}

TEST(RedactionTest, SerializeKnownFieldsDropsWhatThisServerDoesNotKnow) {
  v1::Subject subject = SampleCase().subject();
  const std::string clean = subject.SerializeAsString();
  subject.GetReflection()->MutableUnknownFields(&subject)->AddLengthDelimited(100, "smuggled");
  EXPECT_NE(subject.SerializeAsString(), clean);
  EXPECT_EQ(SerializeKnownFields(subject), clean);
}

}  // namespace
}  // namespace haven::access
