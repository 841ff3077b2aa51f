// Cryptography: sealing binds the key and the record, key files must be
// private, and what is derived from the master key stays apart.
#include "storage/crypto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "storage/ids.h"
#include "tests/unit/test_util.h"

namespace haven::crypto {
namespace {

using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr size_t kSealOverhead = 1 + 24 + 16;  // version, nonce, tag

std::string KeyBytes(const SecretKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), kKeyBytes);
}

class CryptoTest : public ::testing::Test {
 protected:
  void SetUp() override { HAVEN_ASSERT_OK(Init()); }
  SecretKey key_ = SecretKey::Random();
};

TEST_F(CryptoTest, RandomKeysDiffer) {
  EXPECT_NE(KeyBytes(SecretKey::Random()), KeyBytes(SecretKey::Random()));
  EXPECT_NE(KeyBytes(key_), std::string(kKeyBytes, '\0'));
}

TEST_F(CryptoTest, SealThenOpenReturnsThePlaintext) {
  const std::string plaintext("Amina \0 binary \xff", 16);
  std::string sealed = Seal(key_, plaintext, "record-key");
  EXPECT_EQ(sealed.size(), plaintext.size() + kSealOverhead);
  EXPECT_EQ(sealed.find("Amina"), std::string::npos);
  absl::StatusOr<std::string> opened = Open(key_, sealed, "record-key");
  HAVEN_ASSERT_OK(opened);
  EXPECT_EQ(*opened, plaintext);
}

TEST_F(CryptoTest, SealThenOpenEmptyPlaintext) {
  absl::StatusOr<std::string> opened = Open(key_, Seal(key_, "", "k"), "k");
  HAVEN_ASSERT_OK(opened);
  EXPECT_EQ(*opened, "");
}

TEST_F(CryptoTest, OpenFailsWhenValueMovedToAnotherRecord) {
  std::string sealed = Seal(key_, "secret", "case-a/subject");
  EXPECT_THAT(Open(key_, sealed, "case-b/subject"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(Open(key_, sealed, ""), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CryptoTest, OpenFailsWithAnotherKey) {
  std::string sealed = Seal(key_, "secret", "ad");
  EXPECT_THAT(Open(SecretKey::Random(), sealed, "ad"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CryptoTest, OpenFailsWhenAnyByteIsFlipped) {
  const std::string sealed = Seal(key_, "a short secret", "ad");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_THAT(Open(key_, altered, "ad"), StatusIs(absl::StatusCode::kDataLoss, ::testing::_))
        << "flipped byte " << i;
  }
}

TEST_F(CryptoTest, OpenFailsWhenTruncatedOrExtended) {
  const std::string sealed = Seal(key_, "secret", "ad");
  for (size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_THAT(Open(key_, sealed.substr(0, n), "ad"),
                StatusIs(absl::StatusCode::kDataLoss, ::testing::_))
        << "length " << n;
  }
  EXPECT_THAT(Open(key_, sealed + "x", "ad"), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CryptoTest, TwoSealsOfTheSamePlaintextDiffer) {
  std::string a = Seal(key_, "same", "ad");
  std::string b = Seal(key_, "same", "ad");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(1, 24), b.substr(1, 24)) << "nonces must be random";
}

TEST_F(CryptoTest, HashIsBlake2b256AndDeterministic) {
  EXPECT_EQ(Hash("abc").size(), 32u);
  EXPECT_EQ(Hash("abc"), Hash("abc"));
  EXPECT_NE(Hash("abc"), Hash("abd"));
}

TEST_F(CryptoTest, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(CryptoTest, RandomTokenIsUnpaddedUrlSafeBase64AndFresh) {
  std::string a = RandomToken(32);
  std::string b = RandomToken(32);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_EQ(a.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos)
      << a;
  EXPECT_NE(a, b);
}

TEST_F(CryptoTest, PasswordHashVerifiesOnlyTheRightPassword) {
  // One Argon2id hash only: each costs about 100 ms.
  absl::StatusOr<std::string> hash =
      HashPassword("correct horse battery", PasswordCost::kInteractive);
  HAVEN_ASSERT_OK(hash);
  EXPECT_THAT(*hash, StartsWith("$argon2id$"));
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST_F(CryptoTest, VerifyPasswordRejectsAMalformedHash) {
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "x"));
}

// ------------------------------------------------------------ KeyRing

class KeyRingTest : public CryptoTest {
 protected:
  void SetUp() override {
    CryptoTest::SetUp();
    std::string tmpl = ::testing::TempDir() + "haven-keyring-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }

  // Writes `content` to a new file of `mode` (set with chmod, so the umask
  // does not interfere).
  std::string WriteFile(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << content;
    }
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    files_.push_back(path);
    return path;
  }
  std::string Path(const std::string& name) {
    files_.push_back(dir_ + "/" + name);
    return files_.back();
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(KeyRingTest, LoadUsesTheMasterAndAuditKeysFromTheirFiles) {
  SecretKey audit = SecretKey::Random();
  std::string master_path = WriteFile("master.key", absl::Base64Escape(KeyBytes(key_)) + "\n", 0600);
  std::string audit_path = WriteFile("audit.key", absl::Base64Escape(KeyBytes(audit)) + "\n", 0600);
  absl::StatusOr<std::unique_ptr<KeyRing>> ring =
      KeyRing::Load(FileKeySource(master_path, audit_path, ""));
  HAVEN_ASSERT_OK(ring);
  // Same master key, same derived keys; the audit key is the file's own.
  std::unique_ptr<KeyRing> expected = KeyRing::FromKeys(key_, audit, {});
  EXPECT_EQ((*ring)->BlindIndex("name", "amina"), expected->BlindIndex("name", "amina"));
  EXPECT_EQ((*ring)->public_key(), expected->public_key());
  EXPECT_NE((*ring)->public_key(), KeyRing::FromKey(key_)->public_key())
      << "the audit signing key is still derived from the master key";
  EXPECT_EQ((*ring)->legacy_public_key(), KeyRing::FromKey(key_)->public_key());
}

TEST_F(KeyRingTest, LoadRefusesAMissingAuditKeyAndTheMasterKeyAsAuditKey) {
  std::string master_path = WriteFile("master.key", absl::Base64Escape(KeyBytes(key_)), 0600);
  EXPECT_THAT(KeyRing::Load(FileKeySource(master_path, "", "")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("audit_signing_key_file")));
  std::string copy = WriteFile("copy.key", absl::Base64Escape(KeyBytes(key_)), 0600);
  EXPECT_THAT(KeyRing::Load(FileKeySource(master_path, copy, "")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("its own key")));
}

TEST_F(KeyRingTest, ReadKeyFileAcceptsOwnerReadOnly) {
  std::string path = WriteFile("master.key", absl::Base64Escape(KeyBytes(key_)), 0400);
  absl::StatusOr<SecretKey> read = ReadBase64KeyFile(path, "master key file");
  HAVEN_ASSERT_OK(read);
  EXPECT_EQ(KeyBytes(*read), KeyBytes(key_));
}

class KeyFileModeTest : public KeyRingTest, public ::testing::WithParamInterface<mode_t> {};

TEST_P(KeyFileModeTest, ReadKeyFileRefusesAFileOthersCanRead) {
  std::string path = WriteFile("master.key", absl::Base64Escape(KeyBytes(key_)), GetParam());
  EXPECT_THAT(ReadBase64KeyFile(path, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
}

INSTANTIATE_TEST_SUITE_P(GroupOrOthers, KeyFileModeTest,
                         ::testing::Values(0644, 0640, 0604, 0660, 0610, 0601, 0700 | 0020),
                         [](const ::testing::TestParamInfo<mode_t>& param_info) {
                           char name[16];
                           std::snprintf(name, sizeof name, "Mode%04o", param_info.param);
                           return std::string(name);
                         });

TEST_F(KeyRingTest, ReadKeyFileRefusesASymbolicLink) {
  std::string target = WriteFile("master.key", absl::Base64Escape(KeyBytes(key_)), 0600);
  std::string link = Path("link.key");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THAT(ReadBase64KeyFile(link, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
}

TEST_F(KeyRingTest, ReadKeyFileRefusesAFileOwnedBySomeoneElse) {
  if (geteuid() != 0) GTEST_SKIP() << "only root can give a file away";
  std::string path = WriteFile("master.key", absl::Base64Escape(KeyBytes(key_)), 0600);
  ASSERT_EQ(chown(path.c_str(), 12345, static_cast<gid_t>(-1)), 0);
  EXPECT_THAT(ReadBase64KeyFile(path, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("owned by uid 12345")));
}

TEST_F(KeyRingTest, ReadKeyFileRefusesWhatIsNotARegularFile) {
  std::string sub = dir_ + "/sub.key";
  ASSERT_EQ(mkdir(sub.c_str(), 0700), 0);
  EXPECT_THAT(ReadBase64KeyFile(sub, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a regular file")));
  rmdir(sub.c_str());
}

TEST_F(KeyRingTest, ReadKeyFileErrorsNameTheFileButNeverTheKey) {
  std::string encoded = absl::Base64Escape(KeyBytes(key_).substr(0, 31));
  std::string path = WriteFile("short.key", encoded, 0644);
  absl::StatusOr<SecretKey> read = ReadBase64KeyFile(path, "master key file");
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path)));
  EXPECT_THAT(std::string(read.status().message()), ::testing::Not(HasSubstr(encoded)));
}

TEST_F(KeyRingTest, ReadKeyFileRefusesTheWrongLength) {
  std::string short_key = KeyBytes(key_).substr(0, 31);
  std::string path = WriteFile("short.key", absl::Base64Escape(short_key), 0600);
  EXPECT_THAT(ReadBase64KeyFile(path, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("32 bytes")));
  std::string path2 = WriteFile("long.key", absl::Base64Escape(KeyBytes(key_) + "x"), 0600);
  EXPECT_THAT(ReadBase64KeyFile(path2, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("32 bytes")));
}

TEST_F(KeyRingTest, ReadKeyFileRefusesWhatIsNotBase64) {
  std::string path = WriteFile("junk.key", "this is not base64 at all!!", 0600);
  EXPECT_THAT(ReadBase64KeyFile(path, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("base64")));
  std::string empty = WriteFile("empty.key", "", 0600);
  EXPECT_THAT(ReadBase64KeyFile(empty, "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
}

TEST_F(KeyRingTest, ReadKeyFileRefusesAMissingFile) {
  EXPECT_THAT(ReadBase64KeyFile(dir_ + "/absent.key", "master key file"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("absent.key")));
}

TEST_F(KeyRingTest, CreateKeyFileMakesAPrivateFileThatLoads) {
  std::string path = Path("created.key");
  HAVEN_ASSERT_OK(KeyRing::CreateKeyFile(path));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  HAVEN_EXPECT_OK(ReadBase64KeyFile(path, "key file"));
}

TEST_F(KeyRingTest, CreateKeyFileRefusesToOverwrite) {
  std::string path = Path("created.key");
  HAVEN_ASSERT_OK(KeyRing::CreateKeyFile(path));
  absl::StatusOr<SecretKey> before = ReadBase64KeyFile(path, "key file");
  HAVEN_ASSERT_OK(before);
  EXPECT_THAT(KeyRing::CreateKeyFile(path),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  absl::StatusOr<SecretKey> after = ReadBase64KeyFile(path, "key file");
  HAVEN_ASSERT_OK(after);
  EXPECT_EQ(KeyBytes(*before), KeyBytes(*after)) << "the key file was replaced";
}

TEST_F(KeyRingTest, TwoCreatedKeyFilesHoldDifferentKeys) {
  std::string a = Path("a.key");
  std::string b = Path("b.key");
  HAVEN_ASSERT_OK(KeyRing::CreateKeyFile(a));
  HAVEN_ASSERT_OK(KeyRing::CreateKeyFile(b));
  absl::StatusOr<SecretKey> ra = ReadBase64KeyFile(a, "key file");
  absl::StatusOr<SecretKey> rb = ReadBase64KeyFile(b, "key file");
  HAVEN_ASSERT_OK(ra);
  HAVEN_ASSERT_OK(rb);
  EXPECT_NE(KeyBytes(*ra), KeyBytes(*rb));
}

TEST_F(KeyRingTest, WrapEpochsSurviveTheFileAndTheirKeysDependOnTheMasterKey) {
  FileKeySource source(Path("master.key"), Path("audit.key"), Path("wrap.keys"));
  HAVEN_ASSERT_OK(source.WrapEpochs());
  EXPECT_TRUE(source.WrapEpochs()->empty()) << "no file yet: epoch 1 only";
  WrapEpoch one;
  one.retired_micros = 1234;
  WrapEpoch two;
  two.number = 2;
  two.secret = SecretKey::Random();
  HAVEN_ASSERT_OK(source.SaveWrapEpochs({one, two}));
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/wrap.keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  absl::StatusOr<std::vector<WrapEpoch>> read = source.WrapEpochs();
  HAVEN_ASSERT_OK(read);
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].number, 1u);
  EXPECT_EQ((*read)[0].retired_micros, 1234);
  EXPECT_EQ((*read)[1].number, 2u);
  EXPECT_EQ(KeyBytes((*read)[1].secret), KeyBytes(two.secret));

  const SecretKey audit = SecretKey::Random();
  std::unique_ptr<KeyRing> ring = KeyRing::FromKeys(key_, audit, *read);
  EXPECT_EQ(ring->newest_epoch(), 2u);
  const std::string id = NewRawId();
  const SecretKey data_key = SecretKey::Random();
  WrappedDataKey wrapped = ring->WrapDataKey(data_key, KeyDomain::kCase, id);
  EXPECT_EQ(wrapped.epoch, 2u);
  // The epoch's secret without the master key, or the master key without
  // the secret, opens nothing.
  EXPECT_FALSE(KeyRing::FromKeys(SecretKey::Random(), audit, *read)
                   ->UnwrapDataKey(wrapped, KeyDomain::kCase, id)
                   .ok());
  EXPECT_THAT(KeyRing::FromKey(key_)->UnwrapDataKey(wrapped, KeyDomain::kCase, id),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("epoch 2")));
}

TEST_F(KeyRingTest, AMalformedWrapKeysFileIsRefusedWithItsLine) {
  std::string path = WriteFile("wrap.keys", "1 - 0\n2 not-base64 0\n", 0600);
  FileKeySource source(Path("master.key"), Path("audit.key"), path);
  EXPECT_THAT(source.WrapEpochs(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("line 2")));
}

TEST_F(CryptoTest, WrapThenUnwrapDataKeyReturnsTheKey) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  SecretKey data_key = SecretKey::Random();
  std::string case_id = NewRawId();
  WrappedDataKey wrapped = ring->WrapDataKey(data_key, KeyDomain::kCase, case_id);
  EXPECT_EQ(wrapped.epoch, 1u);
  EXPECT_EQ(wrapped.associated_data_version, 2u);
  EXPECT_EQ(wrapped.sealed.find(KeyBytes(data_key)), std::string::npos);
  absl::StatusOr<SecretKey> unwrapped = ring->UnwrapDataKey(wrapped, KeyDomain::kCase, case_id);
  HAVEN_ASSERT_OK(unwrapped);
  EXPECT_EQ(KeyBytes(*unwrapped), KeyBytes(data_key));
}

TEST_F(CryptoTest, ACaseKeyDoesNotUnwrapAsAContactKey) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  std::string id = NewRawId();
  WrappedDataKey wrapped = ring->WrapDataKey(SecretKey::Random(), KeyDomain::kCase, id);
  EXPECT_THAT(ring->UnwrapDataKey(wrapped, KeyDomain::kContact, id),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CryptoTest, KeysWrappedBeforeDomainsStillUnwrap) {
  // As havend wrapped them before: epoch 1, "data-key:<id>", for cases and
  // contacts alike.
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  SecretKey wrap1;
  crypto_kdf_derive_from_key(wrap1.data(), kKeyBytes, 1, "hvn-wrap", key_.data());
  const std::string id = NewRawId();
  const SecretKey data_key = SecretKey::Random();
  WrappedDataKey old;
  old.epoch = 1;
  old.associated_data_version = 0;
  old.sealed = Seal(wrap1, KeyBytes(data_key), "data-key:" + id);
  for (KeyDomain domain : {KeyDomain::kCase, KeyDomain::kContact}) {
    absl::StatusOr<SecretKey> unwrapped = ring->UnwrapDataKey(old, domain, id);
    HAVEN_ASSERT_OK(unwrapped);
    EXPECT_EQ(KeyBytes(*unwrapped), KeyBytes(data_key));
  }
}

TEST_F(CryptoTest, StatisticsOpenOnlyUnderTheirIdAndKey) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  const std::string plain = "sex:female;form:labour";
  std::string sealed = ring->SealStatistics(plain, "statistics:a");
  EXPECT_EQ(sealed.find("female"), std::string::npos);
  absl::StatusOr<std::string> opened = ring->OpenStatistics(sealed, "statistics:a");
  HAVEN_ASSERT_OK(opened);
  EXPECT_EQ(*opened, plain);
  std::string into;
  HAVEN_EXPECT_OK(ring->OpenStatisticsInto(sealed, "statistics:a", &into));
  EXPECT_EQ(into, plain);
  EXPECT_THAT(ring->OpenStatistics(sealed, "statistics:b"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(KeyRing::FromKey(SecretKey::Random())->OpenStatistics(sealed, "statistics:a"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  sealed[sealed.size() / 2] ^= 1;
  EXPECT_THAT(ring->OpenStatistics(sealed, "statistics:a"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CryptoTest, UnwrapDataKeyFailsForAnotherCase) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  WrappedDataKey wrapped = ring->WrapDataKey(SecretKey::Random(), KeyDomain::kCase, NewRawId());
  EXPECT_THAT(ring->UnwrapDataKey(wrapped, KeyDomain::kCase, NewRawId()),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CryptoTest, UnwrapDataKeyFailsUnderAnotherMasterKey) {
  std::string case_id = NewRawId();
  WrappedDataKey wrapped =
      KeyRing::FromKey(key_)->WrapDataKey(SecretKey::Random(), KeyDomain::kCase, case_id);
  EXPECT_THAT(KeyRing::FromKey(SecretKey::Random())->UnwrapDataKey(wrapped, KeyDomain::kCase, case_id),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST_F(CryptoTest, WrappingKeyIsNotTheMasterKey) {
  // A data key wrapped by the ring cannot be opened with the master key itself.
  std::string case_id = NewRawId();
  WrappedDataKey wrapped =
      KeyRing::FromKey(key_)->WrapDataKey(SecretKey::Random(), KeyDomain::kCase, case_id);
  EXPECT_FALSE(Open(key_, wrapped.sealed, "haven-case-key-v2|" + case_id).ok());
}

TEST_F(CryptoTest, BlindIndexIsDeterministicAndSixteenBytes) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  std::string a = ring->BlindIndex("name", "amina");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, ring->BlindIndex("name", "amina"));
  EXPECT_EQ(a, KeyRing::FromKey(key_)->BlindIndex("name", "amina"));
  EXPECT_NE(a, ring->BlindIndex("name", "amine"));
}

TEST_F(CryptoTest, BlindIndexDiffersPerDomain) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  EXPECT_NE(ring->BlindIndex("name", "0612345678"), ring->BlindIndex("phone", "0612345678"));
  // The domain is framed: moving bytes between domain and token changes it.
  EXPECT_NE(ring->BlindIndex("ab", "c"), ring->BlindIndex("a", "bc"));
  EXPECT_NE(ring->BlindIndex("a:", "b"), ring->BlindIndex("a", ":b"));
}

TEST_F(CryptoTest, BlindIndexDiffersPerMasterKey) {
  EXPECT_NE(KeyRing::FromKey(key_)->BlindIndex("name", "amina"),
            KeyRing::FromKey(SecretKey::Random())->BlindIndex("name", "amina"));
}

TEST_F(CryptoTest, BlindIndexIsNotAnUnkeyedHash) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  std::string index = ring->BlindIndex("name", "amina");
  EXPECT_NE(index, Hash("amina").substr(0, 16));
  EXPECT_NE(index, Hash("4:name:amina").substr(0, 16));
}

TEST_F(CryptoTest, SignatureVerifiesWithThePublicKeyOnly) {
  std::unique_ptr<KeyRing> ring = KeyRing::FromKey(key_);
  std::string signature = ring->Sign("checkpoint 42");
  EXPECT_EQ(ring->public_key().size(), 32u);
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_TRUE(VerifySignature(ring->public_key(), "checkpoint 42", signature));
  EXPECT_FALSE(VerifySignature(ring->public_key(), "checkpoint 43", signature));
  EXPECT_FALSE(
      VerifySignature(KeyRing::FromKey(SecretKey::Random())->public_key(), "checkpoint 42", signature));
  std::string flipped = signature;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x40);
  EXPECT_FALSE(VerifySignature(ring->public_key(), "checkpoint 42", flipped));
  EXPECT_FALSE(VerifySignature(ring->public_key(), "checkpoint 42", signature.substr(0, 63)));
  EXPECT_FALSE(VerifySignature(ring->public_key().substr(1), "checkpoint 42", signature));
}

TEST_F(CryptoTest, SigningKeyIsStableForAMasterKeyAndDiffersAcrossThem) {
  EXPECT_EQ(KeyRing::FromKey(key_)->public_key(), KeyRing::FromKey(key_)->public_key());
  EXPECT_NE(KeyRing::FromKey(key_)->public_key(),
            KeyRing::FromKey(SecretKey::Random())->public_key());
}

}  // namespace
}  // namespace haven::crypto
