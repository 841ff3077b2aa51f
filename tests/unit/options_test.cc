// Every field of a stored record and of an API resource carries a
// confidentiality class: redaction is derived from it, and a field someone
// forgot to classify must be caught here, not in production.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "haven/v1/admin.pb.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/case.pb.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/hotline.pb.h"
#include "haven/v1/identification.pb.h"
#include "haven/v1/partner.pb.h"
#include "haven/v1/records.pb.h"
#include "haven/v1/referral.pb.h"
#include "haven/v1/repatriation.pb.h"
#include "storage/access/redaction.h"
#include "testdata/unclassified.pb.h"

namespace haven::access {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

void CollectUnclassified(const Descriptor* type, const std::string& walk_package,
                         std::set<const Descriptor*>* visited, std::vector<std::string>* out) {
  if (!visited->insert(type).second) return;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    if (ClassOf(f) != haven::v1::CONFIDENTIALITY_CLASS_UNSPECIFIED) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map() &&
        f->message_type()->file()->package() == walk_package) {
      CollectUnclassified(f->message_type(), walk_package, visited, out);
    } else {
      out->push_back(f->full_name());
    }
  }
}

// The full names of the fields under `type` that carry no confidentiality
// class. A message field without one is allowed when its type belongs to
// `walk_package` and passes the same check; any other unclassified field,
// a message of another package (Timestamp) included, is reported.
std::vector<std::string> UnclassifiedFields(const Descriptor* type,
                                            const std::string& walk_package = "haven.v1") {
  std::set<const Descriptor*> visited;
  std::vector<std::string> out;
  CollectUnclassified(type, walk_package, &visited, &out);
  return out;
}

std::vector<const Descriptor*> ClassifiedMessages() {
  std::vector<const Descriptor*> types;
  // Every message of records.proto, the stored records.
  const google::protobuf::FileDescriptor* records = haven::v1::CaseRecord::descriptor()->file();
  for (int i = 0; i < records->message_type_count(); ++i) {
    types.push_back(records->message_type(i));
  }
  // The API resources.
  for (const Descriptor* d :
       {haven::v1::Case::descriptor(), haven::v1::Subject::descriptor(),
        haven::v1::Grant::descriptor(), haven::v1::Organisation::descriptor(),
        haven::v1::User::descriptor(), haven::v1::ServiceAccount::descriptor(),
        haven::v1::AuditEntry::descriptor(), haven::v1::AuditCheckpoint::descriptor(),
        haven::v1::Date::descriptor(), haven::v1::Contact::descriptor(),
        haven::v1::Callback::descriptor(), haven::v1::HotlineDashboard::descriptor(),
        haven::v1::Consent::descriptor(), haven::v1::LinkedPerson::descriptor(),
        haven::v1::TimelineEvent::descriptor(), haven::v1::Alert::descriptor(),
        haven::v1::Referral::descriptor(), haven::v1::Screening::descriptor(),
        haven::v1::Identification::descriptor(), haven::v1::Decision::descriptor(),
        haven::v1::Guardian::descriptor(), haven::v1::BestInterestsAssessment::descriptor(),
        haven::v1::Proceeding::descriptor(), haven::v1::IndicatorSet::descriptor(),
        haven::v1::PartnerMechanism::descriptor(), haven::v1::ReferralPacket::descriptor(),
        haven::v1::ReferralReceipt::descriptor(), haven::v1::PartnerReferralUpdate::descriptor(),
        haven::v1::ReturnPlan::descriptor(), haven::v1::FollowUp::descriptor(),
        haven::v1::DueFollowUp::descriptor()}) {
    types.push_back(d);
  }
  return types;
}

TEST(OptionsTest, RecordsProtoHasTheMessagesThisTestExpects) {
  // Guards against checking an empty list: records.proto holds at least
  // these, and the loop below picks up any new one by itself.
  std::set<std::string> names;
  for (const Descriptor* d : ClassifiedMessages()) names.insert(d->full_name());
  for (const char* expected : {"haven.v1.CaseRecord", "haven.v1.WrappedKey", "haven.v1.UserRecord",
                               "haven.v1.SessionRecord", "haven.v1.GrantRecord"}) {
    EXPECT_EQ(names.count(expected), 1u) << expected;
  }
}

TEST(OptionsTest, EveryFieldOfStoredRecordsAndResourcesIsClassified) {
  for (const Descriptor* type : ClassifiedMessages()) {
    EXPECT_THAT(UnclassifiedFields(type), IsEmpty())
        << type->full_name() << " has fields without (haven.v1.confidentiality)";
  }
}

TEST(OptionsTest, CaseIsCheckedThroughItsUnclassifiedSubject) {
  // Case.subject has no class of its own; the check walks into Subject.
  EXPECT_EQ(ClassOf(haven::v1::Case::descriptor()->FindFieldByName("subject")),
            haven::v1::CONFIDENTIALITY_CLASS_UNSPECIFIED);
  EXPECT_EQ(ClassOf(haven::v1::Subject::descriptor()->FindFieldByName("given_name")),
            haven::v1::CONFIDENTIALITY_IDENTIFYING);
}

TEST(OptionsTest, CheckPassesAFullyClassifiedMessage) {
  EXPECT_THAT(UnclassifiedFields(haven::unittest::FullyClassified::descriptor(), "haven.unittest"),
              IsEmpty());
}

TEST(OptionsTest, CheckNamesAnUnclassifiedStringField) {
  EXPECT_THAT(UnclassifiedFields(haven::unittest::Unclassified::descriptor()),
              ElementsAre("haven.unittest.Unclassified.note"));
}

TEST(OptionsTest, CheckWalksIntoUnclassifiedMessagesOfThePackageAndNamesTheirFields) {
  EXPECT_THAT(UnclassifiedFields(haven::unittest::Nested::descriptor(), "haven.unittest"),
              UnorderedElementsAre("haven.unittest.Inner.forgotten", "haven.unittest.Nested.seen"));
}

TEST(OptionsTest, CheckReportsUnclassifiedMessagesOfOtherPackages) {
  // Walking only haven.v1, the test package's Inner is itself an offence.
  EXPECT_THAT(UnclassifiedFields(haven::unittest::Nested::descriptor()),
              UnorderedElementsAre("haven.unittest.Nested.inner", "haven.unittest.Nested.seen",
                                   "haven.unittest.Nested.more"));
}

}  // namespace
}  // namespace haven::access
