// Store: transactions, group commit, and the hash-chained, signed audit log.
#include "storage/store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "haven/v1/audit.pb.h"
#include "storage/audit_witness.h"
#include "storage/keys.h"
#include "tests/unit/test_util.h"

namespace haven::storage {
namespace {

using ::haven::testing::MemStore;
using ::haven::testing::SeqKey;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
namespace v1 = haven::v1;

v1::AuditEntry Entry(const std::string& principal, const std::string& request_id,
                     const std::string& case_id = "") {
  v1::AuditEntry e;
  e.set_principal_id(principal);
  e.set_organisation_id("org");
  e.set_action("test.write");
  e.set_record(absl::StrCat("things/", request_id));
  e.set_case_id(case_id);
  e.set_request_id(request_id);
  e.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  return e;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(db_.Open(), nullptr); }
  Store* store() { return db_.store(); }

  // Commits one Put and, when `audit`, one audit entry.
  absl::Status Write(const std::string& key, const std::string& value, bool audit = true) {
    std::unique_ptr<Txn> txn = store()->Begin();
    if (absl::Status s = txn->Put(Cf::kCases, key, value); !s.ok()) return s;
    if (audit) txn->Audit(Entry("alice", key));
    return store()->Commit(std::move(txn));
  }
  void WriteMany(int n) {
    for (int i = 0; i < n; ++i) {
      HAVEN_ASSERT_OK(Write(absl::StrCat("key", i), absl::StrCat("value", i)));
    }
  }
  // The stored bytes of audit entry `seq`.
  std::string RawEntry(uint64_t seq) {
    absl::StatusOr<std::optional<std::string>> v = store()->Get(Cf::kAudit, SeqKey(seq));
    EXPECT_TRUE(v.ok() && v->has_value()) << "no audit entry " << seq;
    return v.ok() && v->has_value() ? **v : std::string();
  }
  // An insider's forgery: entry 5 names someone else (its by-principal
  // index entry moved with it), and every hash from there to `last` is
  // recomputed so that the chain is whole again.
  void AlterEntry5AndRechain(Txn& txn, uint64_t last) {
    std::string alice;
    keys::AppendShortString(&alice, "alice");
    std::string someone;
    keys::AppendShortString(&someone, "someone-else");
    HAVEN_ASSERT_OK(txn.Delete(Cf::kAuditByPrincipal, alice + SeqKey(5)));
    HAVEN_ASSERT_OK(txn.Put(Cf::kAuditByPrincipal, someone + SeqKey(5), ""));
    std::string previous = AuditEntryHash(RawEntry(4));
    for (uint64_t seq = 5; seq <= last; ++seq) {
      v1::AuditEntry e;
      ASSERT_TRUE(e.ParseFromString(RawEntry(seq)));
      if (seq == 5) e.set_principal_id("someone-else");
      e.set_previous_hash(previous);
      std::string bytes = e.SerializeAsString();
      previous = AuditEntryHash(bytes);
      HAVEN_ASSERT_OK(txn.Put(Cf::kAudit, SeqKey(seq), bytes));
    }
  }

  // Commits raw changes to the audit column families, as an attacker with
  // write access to the database would.
  void Tamper(const std::function<void(Txn&)>& change) {
    std::unique_ptr<Txn> txn = store()->Begin();
    change(*txn);
    HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  }
  std::vector<uint64_t> CheckpointSequences() {
    std::vector<uint64_t> out;
    EXPECT_TRUE(store()
                    ->Scan(Cf::kAuditCheckpoints, "", "",
                           [&](absl::string_view key, absl::string_view) {
                             out.push_back(keys::ConsumeU64(&key).value_or(0));
                             return true;
                           })
                    .ok());
    return out;
  }

  MemStore db_{/*checkpoint_interval=*/16};
};

TEST_F(StoreTest, OpenRequiresKeysAndClock) {
  Store::Options o = db_.options();
  o.path = "/another-db";
  o.keys = nullptr;
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  o = db_.options();
  o.path = "/another-db";
  o.clock = nullptr;
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(StoreTest, ColumnFamilyNamesAreTheOnDiskNames) {
  EXPECT_STREQ(CfName(Cf::kMeta), "meta");
  EXPECT_STREQ(CfName(Cf::kAudit), "audit");
  EXPECT_STREQ(CfName(Cf::kCaseData), "case_data");
  EXPECT_STREQ(CfName(Cf::kServiceAccountCerts), "service_account_certs");
}

TEST_F(StoreTest, NewStoreRecordsItsSchemaVersion) {
  absl::StatusOr<std::optional<std::string>> v = store()->Get(Cf::kMeta, "schema_version");
  HAVEN_ASSERT_OK(v);
  ASSERT_TRUE(v->has_value());
  std::string expected;
  keys::AppendU32(&expected, kSchemaVersion);
  EXPECT_EQ(**v, expected);
}

TEST_F(StoreTest, CommitThenGetSeesTheValue) {
  HAVEN_ASSERT_OK(Write("k", "v", /*audit=*/false));
  absl::StatusOr<std::optional<std::string>> got = store()->Get(Cf::kCases, "k");
  HAVEN_ASSERT_OK(got);
  EXPECT_EQ(*got, std::optional<std::string>("v"));
  // Column families are separate key spaces.
  absl::StatusOr<std::optional<std::string>> other = store()->Get(Cf::kUsers, "k");
  HAVEN_ASSERT_OK(other);
  EXPECT_EQ(*other, std::nullopt);
}

TEST_F(StoreTest, TxnSeesItsOwnWritesOthersDoNotUntilCommit) {
  std::unique_ptr<Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(Cf::kCases, "k", "v"));
  absl::StatusOr<std::optional<std::string>> inside = txn->Get(Cf::kCases, "k");
  HAVEN_ASSERT_OK(inside);
  EXPECT_EQ(*inside, std::optional<std::string>("v"));
  absl::StatusOr<std::optional<std::string>> outside = store()->Get(Cf::kCases, "k");
  HAVEN_ASSERT_OK(outside);
  EXPECT_EQ(*outside, std::nullopt);
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  outside = store()->Get(Cf::kCases, "k");
  HAVEN_ASSERT_OK(outside);
  EXPECT_EQ(*outside, std::optional<std::string>("v"));
}

TEST_F(StoreTest, TxnDroppedWithoutCommitWritesNothing) {
  {
    std::unique_ptr<Txn> txn = store()->Begin();
    HAVEN_ASSERT_OK(txn->Put(Cf::kCases, "k", "v"));
    txn->Audit(Entry("alice", "r1"));
  }
  absl::StatusOr<std::optional<std::string>> got = store()->Get(Cf::kCases, "k");
  HAVEN_ASSERT_OK(got);
  EXPECT_EQ(*got, std::nullopt);
  EXPECT_EQ(store()->last_audit_sequence(), 0u);
  EXPECT_THAT(store()->ReadAuditEntry(1), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  // The dropped transaction released its locks.
  std::unique_ptr<Txn> next = store()->Begin();
  HAVEN_EXPECT_OK(next->GetForUpdate(Cf::kCases, "k"));
}

TEST_F(StoreTest, EmptyCommitSucceedsAndAuditsNothing) {
  HAVEN_ASSERT_OK(store()->Commit(store()->Begin()));
  EXPECT_EQ(store()->last_audit_sequence(), 0u);
}

TEST_F(StoreTest, ACommitListenerHearsOfCommitsToItsFamilyOnceTheyAreVisible) {
  int heard = 0;
  bool visible = false;
  store()->OnCommit(Cf::kLiaisonEvents, [&] {
    ++heard;
    absl::StatusOr<std::optional<std::string>> v = store()->Get(Cf::kLiaisonEvents, "e");
    visible = v.ok() && v->has_value();
  });
  HAVEN_ASSERT_OK(Write("other", "family"));
  EXPECT_EQ(heard, 0);
  std::unique_ptr<Txn> dropped = store()->Begin();
  HAVEN_ASSERT_OK(dropped->Put(Cf::kLiaisonEvents, "e", "never"));
  dropped.reset();
  EXPECT_EQ(heard, 0);
  std::unique_ptr<Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(Cf::kCases, "k", "v"));
  HAVEN_ASSERT_OK(txn->Put(Cf::kLiaisonEvents, "e", "1"));
  HAVEN_ASSERT_OK(txn->Put(Cf::kLiaisonEvents, "f", "2"));
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  EXPECT_EQ(heard, 1);  // once per commit, however many keys
  EXPECT_TRUE(visible);
}

TEST_F(StoreTest, CommitAppliesDeletes) {
  HAVEN_ASSERT_OK(Write("k", "v", false));
  std::unique_ptr<Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Delete(Cf::kCases, "k"));
  absl::StatusOr<std::optional<std::string>> inside = txn->Get(Cf::kCases, "k");
  HAVEN_ASSERT_OK(inside);
  EXPECT_EQ(*inside, std::nullopt);
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  absl::StatusOr<std::optional<std::string>> got = store()->Get(Cf::kCases, "k");
  HAVEN_ASSERT_OK(got);
  EXPECT_EQ(*got, std::nullopt);
}

TEST_F(StoreTest, ScanVisitsThePrefixInKeyOrderAfterTheCursor) {
  for (const char* k : {"b/2", "a/1", "b/1", "b/3", "c/1", "b"}) {
    HAVEN_ASSERT_OK(Write(k, absl::StrCat("v", k), false));
  }
  std::vector<std::string> seen;
  auto collect = [&](absl::string_view key, absl::string_view value) {
    EXPECT_EQ(value, absl::StrCat("v", key));
    seen.emplace_back(key);
    return true;
  };
  HAVEN_ASSERT_OK(store()->Scan(Cf::kCases, "b/", "", collect));
  EXPECT_EQ(seen, (std::vector<std::string>{"b/1", "b/2", "b/3"}));
  seen.clear();
  HAVEN_ASSERT_OK(store()->Scan(Cf::kCases, "b/", "b/1", collect));
  EXPECT_EQ(seen, (std::vector<std::string>{"b/2", "b/3"}));
  seen.clear();
  HAVEN_ASSERT_OK(store()->Scan(Cf::kCases, "b/", "", [&](absl::string_view key, absl::string_view) {
    seen.emplace_back(key);
    return false;  // stop at the first
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"b/1"}));
  // Inside a transaction the scan includes its uncommitted writes.
  std::unique_ptr<Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(Cf::kCases, "b/25", "vb/25"));
  seen.clear();
  HAVEN_ASSERT_OK(txn->Scan(Cf::kCases, "b/", "b/2", collect));
  EXPECT_EQ(seen, (std::vector<std::string>{"b/25", "b/3"}));
}

TEST_F(StoreTest, ScanHonoursACursorThatSortsOutsideThePrefix) {
  for (const char* k : {"a/1", "b/1", "b/2", "c/1"}) {
    HAVEN_ASSERT_OK(Write(k, "v", false));
  }
  std::vector<std::string> seen;
  auto collect = [&](absl::string_view key, absl::string_view) {
    seen.emplace_back(key);
    return true;
  };
  // Every key under "b/" is greater than "a/0", so all of them are visited,
  // though a key outside the prefix ("a/1") lies between cursor and prefix.
  HAVEN_ASSERT_OK(store()->Scan(Cf::kCases, "b/", "a/0", collect));
  EXPECT_EQ(seen, (std::vector<std::string>{"b/1", "b/2"}));
  // No key under "b/" is greater than "b0".
  seen.clear();
  HAVEN_ASSERT_OK(store()->Scan(Cf::kCases, "b/", "b0", collect));
  EXPECT_TRUE(seen.empty());
}

TEST_F(StoreTest, AuditEntriesAreNumberedTimedAndChained) {
  const absl::Time t0 = db_.clock().Now();
  for (int i = 0; i < 3; ++i) {
    HAVEN_ASSERT_OK(Write(absl::StrCat("k", i), "v"));
    db_.clock().Advance(absl::Seconds(10));
  }
  std::vector<v1::AuditEntry> entries = db_.AuditEntries();
  ASSERT_EQ(entries.size(), 3u);
  std::string previous(32, '\0');
  for (size_t i = 0; i < entries.size(); ++i) {
    const v1::AuditEntry& e = entries[i];
    EXPECT_EQ(e.sequence(), i + 1);
    EXPECT_EQ(e.request_id(), absl::StrCat("k", i));
    EXPECT_EQ(absl::FromUnixSeconds(e.time().seconds()) + absl::Nanoseconds(e.time().nanos()),
              t0 + absl::Seconds(10 * static_cast<int64_t>(i)));
    EXPECT_EQ(e.previous_hash(), previous) << "entry " << e.sequence();
    EXPECT_EQ(e.hash(), AuditEntryHash(RawEntry(e.sequence())));
    previous = e.hash();
  }
  EXPECT_EQ(store()->last_audit_sequence(), 3u);
}

TEST_F(StoreTest, SeveralAuditEntriesInOneTxnGetConsecutiveSequences) {
  std::unique_ptr<Txn> txn = store()->Begin();
  txn->Audit(Entry("alice", "a"));
  txn->Audit(Entry("alice", "b"));
  txn->Audit(Entry("bob", "c"));
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  std::vector<v1::AuditEntry> entries = db_.AuditEntries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].request_id(), "a");
  EXPECT_EQ(entries[1].request_id(), "b");
  EXPECT_EQ(entries[2].request_id(), "c");
  EXPECT_TRUE(store()->VerifyAudit().ok);
}

TEST_F(StoreTest, AuditEntriesAreIndexedByCaseAndByPrincipal) {
  std::unique_ptr<Txn> txn = store()->Begin();
  txn->Audit(Entry("alice", "r1", "case-1"));
  txn->Audit(Entry("bob", "r2"));
  txn->Audit(Entry("alice", "r3", "case-1"));
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));

  std::vector<std::string> by_case;
  HAVEN_ASSERT_OK(store()->Scan(Cf::kAuditByCase, "", "",
                                [&](absl::string_view key, absl::string_view) {
                                  by_case.emplace_back(key);
                                  return true;
                                }));
  EXPECT_EQ(by_case, (std::vector<std::string>{"case-1" + SeqKey(1), "case-1" + SeqKey(3)}));

  std::string alice;
  keys::AppendShortString(&alice, "alice");
  std::vector<std::string> by_alice;
  HAVEN_ASSERT_OK(store()->Scan(Cf::kAuditByPrincipal, alice, "",
                                [&](absl::string_view key, absl::string_view) {
                                  by_alice.emplace_back(key);
                                  return true;
                                }));
  EXPECT_EQ(by_alice, (std::vector<std::string>{alice + SeqKey(1), alice + SeqKey(3)}));
}

TEST_F(StoreTest, ConcurrentCommitsKeepEveryWriteAndAContiguousChain) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = absl::StrCat("t", t, "-", i);
        std::unique_ptr<Txn> txn = store()->Begin();
        if (!txn->Put(Cf::kCases, key, absl::StrCat("value-", key)).ok()) ++failures;
        txn->Audit(Entry(absl::StrCat("principal-", t), key));
        if (!store()->Commit(std::move(txn)).ok()) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  constexpr uint64_t kTotal = kThreads * kPerThread;
  std::set<std::string> audited;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string key = absl::StrCat("t", t, "-", i);
      absl::StatusOr<std::optional<std::string>> got = store()->Get(Cf::kCases, key);
      HAVEN_ASSERT_OK(got);
      EXPECT_EQ(*got, std::optional<std::string>("value-" + key));
    }
  }
  EXPECT_EQ(store()->last_audit_sequence(), kTotal);
  for (uint64_t seq = 1; seq <= kTotal; ++seq) {
    absl::StatusOr<v1::AuditEntry> e = store()->ReadAuditEntry(seq);
    HAVEN_ASSERT_OK(e);
    EXPECT_EQ(e->sequence(), seq);
    audited.insert(e->request_id());
  }
  EXPECT_EQ(audited.size(), kTotal) << "every transaction's entry, once";
  EXPECT_THAT(store()->ReadAuditEntry(kTotal + 1),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));

  AuditVerification v = store()->VerifyAudit();
  EXPECT_TRUE(v.ok) << v.problem << " at " << v.first_bad_sequence;
  EXPECT_EQ(v.entries, kTotal);
  // A checkpoint at least every 16 entries, give or take a group of at most
  // kThreads commits.
  std::vector<uint64_t> checkpoints = CheckpointSequences();
  EXPECT_GE(checkpoints.size(), kTotal / (16 + kThreads));
  EXPECT_EQ(v.checkpoints, checkpoints.size());
  uint64_t previous = 0;
  for (uint64_t seq : checkpoints) {
    EXPECT_GE(seq - previous, 16u);
    EXPECT_LT(seq - previous, 16u + kThreads);
    previous = seq;
  }
}

TEST_F(StoreTest, CheckpointsAreSignedStatementsOfTheChainHead) {
  WriteMany(40);
  std::vector<uint64_t> sequences = CheckpointSequences();
  EXPECT_EQ(sequences, (std::vector<uint64_t>{16, 32}));
  for (uint64_t seq : sequences) {
    absl::StatusOr<std::optional<std::string>> raw = store()->Get(Cf::kAuditCheckpoints, SeqKey(seq));
    HAVEN_ASSERT_OK(raw);
    ASSERT_TRUE(raw->has_value());
    v1::AuditCheckpoint cp;
    ASSERT_TRUE(cp.ParseFromString(**raw));
    EXPECT_EQ(cp.sequence(), seq);
    EXPECT_EQ(cp.hash(), AuditEntryHash(RawEntry(seq)));
    EXPECT_EQ(cp.version(), 2u);
    EXPECT_EQ(cp.instance_id(), store()->instance_id());
    EXPECT_TRUE(crypto::VerifySignature(db_.keys().public_key(), CheckpointMessageV2(cp),
                                        cp.signature()));
    // Time and instance are signed: neither can be changed unseen.
    v1::AuditCheckpoint moved = cp;
    moved.mutable_time()->set_seconds(cp.time().seconds() + 1);
    EXPECT_FALSE(CheckpointSignatureValid(db_.keys(), moved));
    moved = cp;
    moved.set_instance_id("another-store");
    EXPECT_FALSE(CheckpointSignatureValid(db_.keys(), moved));
  }
}

TEST_F(StoreTest, SignedHeadNamesTheLastEntryWithoutStoringACheckpoint) {
  WriteMany(5);
  v1::AuditCheckpoint head = store()->SignedHead();
  EXPECT_EQ(head.sequence(), 5u);
  EXPECT_EQ(head.hash(), AuditEntryHash(RawEntry(5)));
  EXPECT_TRUE(CheckpointSignatureValid(db_.keys(), head));
  EXPECT_TRUE(CheckpointSequences().empty());
}

TEST_F(StoreTest, TheAuditSigningKeyIsNotDerivedFromTheMasterKey) {
  WriteMany(16);
  v1::AuditCheckpoint head = store()->SignedHead();
  EXPECT_FALSE(crypto::VerifySignature(crypto::KeyRing::FromKey(db_.master())->public_key(),
                                       CheckpointMessageV2(head), head.signature()))
      << "whoever holds the master key could re-sign the chain";
}

TEST_F(StoreTest, TheInstanceIdIsMadeOnceAndKept) {
  const std::string id = store()->instance_id();
  EXPECT_EQ(id.size(), 32u);
  db_.Close();
  ASSERT_NE(db_.Open(), nullptr);
  EXPECT_EQ(store()->instance_id(), id);
}

TEST_F(StoreTest, Version1CheckpointsStillVerifyButNotAfterVersion2Ones) {
  WriteMany(20);  // a version-2 checkpoint at 16
  // As havend signed them before: sequence and hash only, with the key
  // derived from the master key.
  auto legacy = [&](uint64_t seq) {
    v1::AuditCheckpoint cp;
    cp.set_sequence(seq);
    cp.set_hash(AuditEntryHash(RawEntry(seq)));
    cp.set_signature(crypto::KeyRing::FromKey(db_.master())->Sign(CheckpointMessage(seq, cp.hash())));
    return cp.SerializeAsString();
  };
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Put(Cf::kAuditCheckpoints, SeqKey(8), legacy(8))); });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.legacy_checkpoints, 1u);
  // One forged with the master key after the audit key took over is refused.
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Put(Cf::kAuditCheckpoints, SeqKey(20), legacy(20))); });
  v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 20u) << v.problem;
}

// Deletes entries `from` on and their index entries, as an insider with the
// database would.
void CutBack(Txn& txn, Store& store, uint64_t from, uint64_t to) {
  for (uint64_t seq = from; seq <= to; ++seq) {
    HAVEN_ASSERT_OK(txn.Delete(Cf::kAudit, SeqKey(seq)));
    HAVEN_ASSERT_OK(txn.Delete(Cf::kAuditCheckpoints, SeqKey(seq)));
  }
  for (Cf index : {Cf::kAuditByCase, Cf::kAuditByPrincipal}) {
    std::vector<std::string> doomed;
    HAVEN_ASSERT_OK(store.Scan(index, "", "", [&](absl::string_view key, absl::string_view) {
      absl::string_view seq = key.substr(key.size() - 8);
      if (keys::ConsumeU64(&seq).value_or(0) >= from) doomed.emplace_back(key);
      return true;
    }));
    for (const std::string& key : doomed) HAVEN_ASSERT_OK(txn.Delete(index, key));
  }
}

TEST_F(StoreTest, VerifyAuditCatchesALogCutBackBeforeItsWitnessedHeadAfterARestart) {
  WriteMany(20);  // a checkpoint at 16
  const v1::AuditCheckpoint witnessed = store()->SignedHead();  // what havend witnessed
  db_.Close();  // a final checkpoint at 20
  ASSERT_NE(db_.Open(), nullptr);
  // Offline, an insider cuts the log back to the checkpoint at 16, indexes
  // and final checkpoint included, and havend restarts.
  Tamper([&](Txn& txn) { ASSERT_NO_FATAL_FAILURE(CutBack(txn, *store(), 17, 20)); });
  db_.Close();
  ASSERT_NE(db_.Open(), nullptr);
  ASSERT_EQ(store()->last_audit_sequence(), 16u);
  // The store alone cannot tell (this passed before witnesses were checked).
  EXPECT_TRUE(store()->VerifyAudit().ok);
  AuditVerification v = store()->VerifyAudit(&witnessed);
  EXPECT_FALSE(v.ok) << "entries 17..20 were removed and the log verifies against its witness";
  EXPECT_EQ(v.first_bad_sequence, 17u);
  EXPECT_THAT(v.problem, HasSubstr("witnessed head (sequence 20)"));
  EXPECT_EQ(v.witnessed_sequence, 20u);
}

TEST_F(StoreTest, VerifyAuditAcceptsALogThatGrewPastItsWitnessedHead) {
  WriteMany(5);
  const v1::AuditCheckpoint witnessed = store()->SignedHead();
  WriteMany(5);
  AuditVerification v = store()->VerifyAudit(&witnessed);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.witnessed_sequence, 5u);
}

TEST_F(StoreTest, VerifyAuditRefusesAWitnessedHeadItCannotTrust) {
  WriteMany(5);
  v1::AuditCheckpoint forged = store()->SignedHead();
  forged.set_sequence(3);  // no longer what was signed
  EXPECT_THAT(store()->VerifyAudit(&forged).problem, HasSubstr("signature"));
  // Another store's head, properly signed, is not this store's witness.
  MemStore other;
  ASSERT_NE(other.Open(), nullptr);
  v1::AuditCheckpoint theirs = other.store()->SignedHead();
  EXPECT_FALSE(store()->VerifyAudit(&theirs).ok);
}

TEST_F(StoreTest, VerifyAuditChecksTheIndexesAgainstTheChain) {
  WriteMany(5);
  std::string principal_key;
  keys::AppendShortString(&principal_key, "alice");
  // An index entry missing for an entry of the chain.
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Delete(Cf::kAuditByPrincipal, principal_key + SeqKey(3))); });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 3u);
  EXPECT_THAT(v.problem, HasSubstr("by-principal index lacks"));
  // Put back; then an index entry naming someone the chain does not.
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Put(Cf::kAuditByPrincipal, principal_key + SeqKey(3), "")); });
  EXPECT_TRUE(store()->VerifyAudit().ok);
  std::string mallory;
  keys::AppendShortString(&mallory, "mallory");
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Put(Cf::kAuditByPrincipal, mallory + SeqKey(3), "")); });
  v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_THAT(v.problem, HasSubstr("by-principal index holds entries that are not in the chain"));
}

TEST(AuditWitnessTest, AppendsSyncedLinesAndReadsBackTheLast) {
  std::string dir = ::testing::TempDir() + "haven-witness-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/witness.log";
  AuditWitness witness(path);
  absl::StatusOr<std::optional<v1::AuditCheckpoint>> none = witness.Latest();
  HAVEN_ASSERT_OK(none);
  EXPECT_FALSE(none->has_value()) << "no file yet";
  MemStore db;
  ASSERT_NE(db.Open(), nullptr);
  v1::AuditCheckpoint first = db.store()->SignedHead();
  HAVEN_ASSERT_OK(witness.Append(first));
  std::unique_ptr<Txn> txn = db.store()->Begin();
  v1::AuditEntry entry;
  entry.set_principal_id("alice");
  txn->Audit(entry);
  HAVEN_ASSERT_OK(db.store()->Commit(std::move(txn)));
  v1::AuditCheckpoint second = db.store()->SignedHead();
  HAVEN_ASSERT_OK(witness.Append(second));
  absl::StatusOr<std::optional<v1::AuditCheckpoint>> latest = witness.Latest();
  HAVEN_ASSERT_OK(latest);
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->SerializeAsString(), second.SerializeAsString());
  EXPECT_TRUE(CheckpointSignatureValid(db.keys(), **latest));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  {
    std::ofstream out(path, std::ios::app);
    out << "not a head\n";
  }
  EXPECT_THAT(witness.Latest(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST_F(StoreTest, ClosingWritesAFinalCheckpoint) {
  WriteMany(5);
  EXPECT_TRUE(CheckpointSequences().empty());
  db_.Close();
  ASSERT_NE(db_.Open(), nullptr);
  EXPECT_EQ(CheckpointSequences(), (std::vector<uint64_t>{5}));
  AuditVerification v = store()->VerifyAudit();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.checkpoints, 1u);
}

TEST_F(StoreTest, ReopenKeepsDataAndContinuesTheChain) {
  WriteMany(20);
  const std::string last_hash = AuditEntryHash(RawEntry(20));
  db_.Close();
  ASSERT_NE(db_.Open(), nullptr);
  EXPECT_EQ(store()->last_audit_sequence(), 20u);
  absl::StatusOr<std::optional<std::string>> got = store()->Get(Cf::kCases, "key7");
  HAVEN_ASSERT_OK(got);
  EXPECT_EQ(*got, std::optional<std::string>("value7"));

  for (int i = 20; i < 25; ++i) {
    HAVEN_ASSERT_OK(Write(absl::StrCat("key", i), "again"));
  }
  absl::StatusOr<v1::AuditEntry> next = store()->ReadAuditEntry(21);
  HAVEN_ASSERT_OK(next);
  EXPECT_EQ(next->previous_hash(), last_hash);
  AuditVerification v = store()->VerifyAudit();
  EXPECT_TRUE(v.ok) << v.problem << " at " << v.first_bad_sequence;
  EXPECT_EQ(v.entries, 25u);
}

TEST_F(StoreTest, VerifyAuditAcceptsAnUntouchedLog) {
  WriteMany(20);
  AuditVerification v = store()->VerifyAudit();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 20u);
  EXPECT_EQ(v.checkpoints, 1u);
  EXPECT_EQ(v.first_bad_sequence, 0u);
}

TEST_F(StoreTest, VerifyAuditDetectsAnAlteredEntry) {
  WriteMany(20);
  v1::AuditEntry e;
  ASSERT_TRUE(e.ParseFromString(RawEntry(5)));
  e.set_principal_id("someone-else");
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Put(Cf::kAudit, SeqKey(5), e.SerializeAsString())); });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  // The chain breaks between 5 and 6; which of the two was altered cannot
  // be told from the chain alone.
  EXPECT_GE(v.first_bad_sequence, 5u);
  EXPECT_LE(v.first_bad_sequence, 6u);
  EXPECT_FALSE(v.problem.empty());
}

TEST_F(StoreTest, VerifyAuditDetectsAnAlteredCheckpointedEntry) {
  WriteMany(20);
  v1::AuditEntry e;
  ASSERT_TRUE(e.ParseFromString(RawEntry(16)));
  e.set_outcome(v1::AUDIT_OUTCOME_DENIED);
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Put(Cf::kAudit, SeqKey(16), e.SerializeAsString())); });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 16u) << v.problem;
}

TEST_F(StoreTest, VerifyAuditDetectsAnAlteredLastEntryAfterReopen) {
  WriteMany(20);
  v1::AuditEntry e;
  ASSERT_TRUE(e.ParseFromString(RawEntry(20)));
  e.set_action("test.nothing");
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Put(Cf::kAudit, SeqKey(20), e.SerializeAsString())); });
  db_.Close();  // the final checkpoint signs the head the store wrote
  ASSERT_NE(db_.Open(), nullptr);
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 20u) << v.problem;
}

TEST_F(StoreTest, VerifyAuditDetectsADeletedEntry) {
  WriteMany(20);
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Delete(Cf::kAudit, SeqKey(7))); });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 7u);
  EXPECT_THAT(v.problem, HasSubstr("missing"));
}

TEST_F(StoreTest, VerifyAuditDetectsADeletedFirstEntry) {
  WriteMany(3);
  Tamper([&](Txn& txn) { HAVEN_ASSERT_OK(txn.Delete(Cf::kAudit, SeqKey(1))); });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 1u);
}

TEST_F(StoreTest, VerifyAuditDetectsDeletedTailEntriesSignedByACheckpoint) {
  WriteMany(20);  // checkpoint at 16
  Tamper([&](Txn& txn) {
    for (uint64_t seq = 13; seq <= 20; ++seq) HAVEN_ASSERT_OK(txn.Delete(Cf::kAudit, SeqKey(seq)));
  });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 13u) << v.problem;
}

TEST_F(StoreTest, VerifyAuditDetectsDeletedTailEntriesAfterTheLastCheckpoint) {
  WriteMany(20);  // checkpoint at 16; 17..20 not yet signed
  Tamper([&](Txn& txn) {
    for (uint64_t seq = 17; seq <= 20; ++seq) HAVEN_ASSERT_OK(txn.Delete(Cf::kAudit, SeqKey(seq)));
  });
  // The running store knows its head is at 20: the truncation is visible now,
  // not only after the next restart.
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok) << "entries 17..20 were removed and VerifyAudit says the log is whole";
  EXPECT_EQ(v.first_bad_sequence, 17u) << v.problem;
}

TEST_F(StoreTest, VerifyAuditDetectsDeletedTailEntriesAfterReopen) {
  WriteMany(20);
  Tamper([&](Txn& txn) {
    for (uint64_t seq = 17; seq <= 20; ++seq) HAVEN_ASSERT_OK(txn.Delete(Cf::kAudit, SeqKey(seq)));
  });
  db_.Close();  // the final checkpoint signs sequence 20
  ASSERT_NE(db_.Open(), nullptr);
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 17u) << v.problem;
}

TEST_F(StoreTest, VerifyAuditDetectsACheckpointWithABadSignature) {
  WriteMany(20);
  absl::StatusOr<std::optional<std::string>> raw = store()->Get(Cf::kAuditCheckpoints, SeqKey(16));
  HAVEN_ASSERT_OK(raw);
  ASSERT_TRUE(raw->has_value());
  v1::AuditCheckpoint cp;
  ASSERT_TRUE(cp.ParseFromString(**raw));
  std::string sig = cp.signature();
  sig[0] = static_cast<char>(sig[0] ^ 1);
  cp.set_signature(sig);
  Tamper([&](Txn& txn) {
    HAVEN_ASSERT_OK(txn.Put(Cf::kAuditCheckpoints, SeqKey(16), cp.SerializeAsString()));
  });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 16u);
  EXPECT_THAT(v.problem, HasSubstr("signature"));
}

TEST_F(StoreTest, VerifyAuditRejectsCheckpointsSignedByAnotherKey) {
  WriteMany(20);
  db_.Close();
  // The same data, verified with another master key's public key.
  Store::Options o = db_.options();
  std::unique_ptr<crypto::KeyRing> other = crypto::KeyRing::FromKey(crypto::SecretKey::Random());
  o.keys = other.get();
  absl::StatusOr<std::unique_ptr<Store>> reopened = Store::Open(o);
  HAVEN_ASSERT_OK(reopened);
  AuditVerification v = (*reopened)->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 16u);
  reopened->reset();
}

TEST_F(StoreTest, VerifyAuditDetectsARechainedLogByItsCheckpoint) {
  WriteMany(20);
  // Alter entry 5 and recompute every later hash: the chain is whole again,
  // but the signed checkpoint at 16 no longer matches.
  Tamper([&](Txn& txn) {
    ASSERT_NO_FATAL_FAILURE(AlterEntry5AndRechain(txn, 20));
  });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_sequence, 16u) << v.problem;
}

TEST_F(StoreTest, VerifyAuditDetectsARechainedLogWhoseCheckpointsWereDeleted) {
  // Enough entries that checkpoints must exist whatever the grouping was.
  WriteMany(300);
  db_.Close();
  ASSERT_NE(db_.Open(), nullptr);
  // Offline, an insider alters entry 5, recomputes the chain, and deletes
  // the signed checkpoints that would betray it.
  std::vector<uint64_t> checkpoints = CheckpointSequences();
  ASSERT_FALSE(checkpoints.empty());
  Tamper([&](Txn& txn) {
    ASSERT_NO_FATAL_FAILURE(AlterEntry5AndRechain(txn, 300));
    for (uint64_t seq : checkpoints) HAVEN_ASSERT_OK(txn.Delete(Cf::kAuditCheckpoints, SeqKey(seq)));
  });
  AuditVerification v = store()->VerifyAudit();
  EXPECT_FALSE(v.ok) << "300 entries and not one signed checkpoint, yet the log verifies";
}

TEST_F(StoreTest, OpenRefusesANewerSchemaVersion) {
  std::string newer;
  keys::AppendU32(&newer, kSchemaVersion + 1);
  std::unique_ptr<Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(Cf::kMeta, "schema_version", newer));
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  db_.Close();
  EXPECT_THAT(db_.TryOpen(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr(absl::StrCat(kSchemaVersion + 1))));
}

TEST_F(StoreTest, OpenRefusesAMalformedSchemaVersion) {
  std::unique_ptr<Txn> txn = store()->Begin();
  HAVEN_ASSERT_OK(txn->Put(Cf::kMeta, "schema_version", std::string("\0\0\0", 3)));
  HAVEN_ASSERT_OK(store()->Commit(std::move(txn)));
  db_.Close();
  EXPECT_THAT(db_.TryOpen(), StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
}

TEST_F(StoreTest, SecondGetForUpdateWaitsForTheFirstAndReadsItsCommit) {
  HAVEN_ASSERT_OK(Write("counter", "0", false));
  std::unique_ptr<Txn> first = store()->Begin();
  absl::StatusOr<std::optional<std::string>> v = first->GetForUpdate(Cf::kCases, "counter");
  HAVEN_ASSERT_OK(v);
  EXPECT_EQ(*v, std::optional<std::string>("0"));
  HAVEN_ASSERT_OK(first->Put(Cf::kCases, "counter", "1"));

  std::atomic<bool> second_read{false};
  absl::StatusOr<std::optional<std::string>> second_value{std::optional<std::string>()};
  std::thread second([&] {
    std::unique_ptr<Txn> txn = store()->Begin();
    second_value = txn->GetForUpdate(Cf::kCases, "counter");
    second_read = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_read.load()) << "the second transaction read a locked key";
  HAVEN_ASSERT_OK(store()->Commit(std::move(first)));
  second.join();
  HAVEN_ASSERT_OK(second_value);
  EXPECT_EQ(*second_value, std::optional<std::string>("1")) << "lost update";
}

TEST_F(StoreTest, GetForUpdateOfALockedKeyIsAbortedAfterTheLockTimeout) {
  std::unique_ptr<Txn> first = store()->Begin();
  HAVEN_ASSERT_OK(first->GetForUpdate(Cf::kCases, "k"));
  std::unique_ptr<Txn> second = store()->Begin();
  EXPECT_THAT(second->GetForUpdate(Cf::kCases, "k"),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("retry")));
  // Other keys are not locked.
  HAVEN_EXPECT_OK(second->GetForUpdate(Cf::kCases, "other"));
}

}  // namespace
}  // namespace haven::storage
