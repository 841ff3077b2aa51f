// Data keys and their rotation: stores made before wrap-key epochs keep
// opening, rotation re-wraps every case and contact key, and once an
// epoch's secret is destroyed what it wrapped (in any old copy) is unreadable.
#include "storage/access/data_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <memory>
#include <string>
#include <vector>

#include "haven/v1/records.pb.h"
#include "storage/access/case_door.h"
#include "storage/ids.h"
#include "storage/store.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

using ::haven::testing::MemStore;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
using storage::Cf;

std::vector<crypto::WrapEpoch> Epochs(std::vector<uint32_t> numbers) {
  std::vector<crypto::WrapEpoch> out;
  for (uint32_t n : numbers) {
    crypto::WrapEpoch e;
    e.number = n;
    // Deterministic per number, so that two rings agree on an epoch.
    crypto_generichash(e.secret.data(), crypto::kKeyBytes,
                       reinterpret_cast<const unsigned char*>(&n), sizeof n, nullptr, 0);
    out.push_back(e);
  }
  return out;
}

class DataKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(db_.Open(), nullptr);
    caseworker_.principal.id = NewId();
    caseworker_.principal.organisation_id = NewId();
    caseworker_.principal.roles = {v1::ROLE_CASEWORKER};
    caseworker_.purpose = "case-management";
  }

  std::unique_ptr<crypto::KeyRing> Ring(std::vector<uint32_t> epochs) {
    return crypto::KeyRing::FromKeys(db_.master(), crypto::SecretKey::Random(), Epochs(epochs));
  }

  // A case whose subject is "Amina", created by a door on `keys`.
  std::string CreateCase(const crypto::KeyRing& keys) {
    CaseDoor door(db_.store(), &keys, &db_.clock());
    absl::StatusOr<v1::CaseRecord> record =
        door.CreateCase(caseworker_, "case.create", [](CaseScope& scope) {
          v1::Subject s;
          s.set_given_name("Amina");
          return scope.Save(RecordKind::kSubject, "", s);
        });
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? record->id() : std::string();
  }

  // The case's subject's given name, read through a door on `keys`.
  absl::StatusOr<std::string> SubjectName(const crypto::KeyRing& keys, const std::string& raw_id) {
    CaseDoor door(db_.store(), &keys, &db_.clock());
    std::string name;
    absl::Status s = door.WithCase(caseworker_, ToHex(raw_id), v1::CASE_ACTION_READ, "case.read",
                                   [&](CaseScope& scope) -> absl::Status {
                                     v1::Subject subject;
                                     absl::StatusOr<bool> found =
                                         scope.Load(RecordKind::kSubject, "", &subject);
                                     if (!found.ok()) return found.status();
                                     name = subject.given_name();
                                     return absl::OkStatus();
                                   });
    if (!s.ok()) return s;
    return name;
  }

  v1::WrappedKey StoredCaseKey(const std::string& raw_id) {
    absl::StatusOr<std::optional<std::string>> raw = db_.store()->Get(Cf::kCaseKeys, raw_id);
    v1::WrappedKey wrapped;
    EXPECT_TRUE(raw.ok() && raw->has_value() && wrapped.ParseFromString(**raw));
    return wrapped;
  }

  void Put(Cf cf, const std::string& key, const std::string& value) {
    std::unique_ptr<storage::Txn> txn = db_.store()->Begin();
    HAVEN_ASSERT_OK(txn->Put(cf, key, value));
    HAVEN_ASSERT_OK(db_.store()->Commit(std::move(txn)));
  }

  MemStore db_;
  RequestContext caseworker_;
};

TEST_F(DataKeysTest, AStoreMadeTheOldWayKeepsOpeningAndRotationRewrapsEveryKey) {
  std::unique_ptr<crypto::KeyRing> epoch1 = Ring({});
  const std::string case_id = CreateCase(*epoch1);
  // Rewrite the case's key as havend stored it before epochs and domains:
  // epoch 1, no associated-data version, bound to "data-key:<id>".
  absl::StatusOr<crypto::SecretKey> data_key =
      UnwrapKey(*epoch1, StoredCaseKey(case_id), crypto::KeyDomain::kCase, case_id);
  HAVEN_ASSERT_OK(data_key);
  crypto::SecretKey wrap1;
  crypto_kdf_derive_from_key(wrap1.data(), crypto::kKeyBytes, 1, "hvn-wrap", db_.master().data());
  const std::string raw_key(reinterpret_cast<const char*>(data_key->data()), crypto::kKeyBytes);
  v1::WrappedKey old;
  old.set_epoch(1);
  old.set_sealed_key(crypto::Seal(wrap1, raw_key, "data-key:" + case_id));
  Put(Cf::kCaseKeys, case_id, old.SerializeAsString());
  // A hotline contact's key, stored the old way too.
  const std::string contact_id = NewRawId();
  const crypto::SecretKey contact_key = crypto::SecretKey::Random();
  v1::ContactRecord contact;
  contact.set_id(contact_id);
  contact.mutable_data_key()->set_epoch(1);
  contact.mutable_data_key()->set_sealed_key(crypto::Seal(
      wrap1, std::string(reinterpret_cast<const char*>(contact_key.data()), crypto::kKeyBytes),
      "data-key:" + contact_id));
  Put(Cf::kContacts, contact_id, contact.SerializeAsString());

  absl::StatusOr<std::string> name = SubjectName(*epoch1, case_id);
  HAVEN_ASSERT_OK(name);
  EXPECT_EQ(*name, "Amina") << "a store made before epochs no longer opens";

  // Rotation to epoch 2: both keys re-wrapped, in their own domains.
  std::unique_ptr<crypto::KeyRing> epoch2 = Ring({1, 2});
  absl::StatusOr<uint64_t> rewrapped = RewrapDataKeys(*db_.store(), *epoch2, /*batch=*/1);
  HAVEN_ASSERT_OK(rewrapped);
  EXPECT_EQ(*rewrapped, 2u);
  absl::StatusOr<std::map<uint32_t, uint64_t>> counts = CountDataKeysByEpoch(*db_.store());
  HAVEN_ASSERT_OK(counts);
  EXPECT_EQ(*counts, (std::map<uint32_t, uint64_t>{{2, 2}}));
  EXPECT_EQ(StoredCaseKey(case_id).associated_data_version(), 2u);
  name = SubjectName(*Ring({2}), case_id);
  HAVEN_ASSERT_OK(name);
  EXPECT_EQ(*name, "Amina");
  absl::StatusOr<std::optional<std::string>> stored = db_.store()->Get(Cf::kContacts, contact_id);
  HAVEN_ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  ASSERT_TRUE(contact.ParseFromString(**stored));
  absl::StatusOr<crypto::SecretKey> reopened =
      UnwrapKey(*Ring({2}), contact.data_key(), crypto::KeyDomain::kContact, contact_id);
  HAVEN_ASSERT_OK(reopened);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(reopened->data()), crypto::kKeyBytes),
            std::string(reinterpret_cast<const char*>(contact_key.data()), crypto::kKeyBytes));
  // The re-wrapped contact key is not a case key.
  EXPECT_FALSE(UnwrapKey(*Ring({2}), contact.data_key(), crypto::KeyDomain::kCase, contact_id).ok());
}

TEST_F(DataKeysTest, ARotationLeftUnfinishedIsFinishedByTheNextRun) {
  std::unique_ptr<crypto::KeyRing> epoch1 = Ring({});
  CreateCase(*epoch1);
  std::unique_ptr<crypto::KeyRing> epoch2 = Ring({1, 2});
  HAVEN_ASSERT_OK(RewrapDataKeys(*db_.store(), *epoch2));
  // A key wrapped under epoch 1 after that (as if the run had stopped
  // before reaching it) is all the next run re-wraps.
  const std::string late = CreateCase(*epoch1);
  EXPECT_EQ(StoredCaseKey(late).epoch(), 1u);
  absl::StatusOr<uint64_t> rewrapped = RewrapDataKeys(*db_.store(), *epoch2);
  HAVEN_ASSERT_OK(rewrapped);
  EXPECT_EQ(*rewrapped, 1u);
  EXPECT_EQ(StoredCaseKey(late).epoch(), 2u);
  absl::StatusOr<uint64_t> again = RewrapDataKeys(*db_.store(), *epoch2);
  HAVEN_ASSERT_OK(again);
  EXPECT_EQ(*again, 0u);
}

TEST_F(DataKeysTest, AKeyCopiedBeforeItsEpochWasDestroyedCannotBeUnwrapped) {
  std::unique_ptr<crypto::KeyRing> epoch2 = Ring({1, 2});
  const std::string case_id = CreateCase(*epoch2);
  const v1::WrappedKey in_backup = StoredCaseKey(case_id);  // a backup's copy
  ASSERT_EQ(in_backup.epoch(), 2u);
  HAVEN_ASSERT_OK(RewrapDataKeys(*db_.store(), *Ring({2, 3})));
  // Epoch 2's secret destroyed: the master key and every epoch left do not
  // open the backup's copy; the live store still opens.
  std::unique_ptr<crypto::KeyRing> after = Ring({3});
  EXPECT_THAT(UnwrapKey(*after, in_backup, crypto::KeyDomain::kCase, case_id),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("epoch 2")));
  crypto::WrappedDataKey forced{3, 2, in_backup.sealed_key()};
  EXPECT_FALSE(after->UnwrapDataKey(forced, crypto::KeyDomain::kCase, case_id).ok());
  absl::StatusOr<std::string> name = SubjectName(*after, case_id);
  HAVEN_ASSERT_OK(name);
  EXPECT_EQ(*name, "Amina");
}

}  // namespace
}  // namespace haven::access
