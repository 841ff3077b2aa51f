// A read whose audit entry cannot be written returns no data: the
// write-ahead log of a memory store is made to fail, and the door must
// answer with an error rather than the case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "haven/v1/admin.pb.h"
#include "haven/v1/case.pb.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/access/case_door.h"
#include "storage/ids.h"
#include "tests/unit/test_util.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using ::haven::testing::MemStore;
using ::haven::testing::StatusIs;
using storage::Cf;

// A WAL file whose writes fail once `fail` is set.
class FailingWalFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailingWalFile(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<bool>* fail)
      : FSWritableFileOwnerWrapper(std::move(file)), fail_(fail) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return FSWritableFileOwnerWrapper::Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (*fail_) return Injected();
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  static rocksdb::IOStatus Injected() { return rocksdb::IOStatus::IOError("injected WAL failure"); }
  const std::atomic<bool>* fail_;
};

// Decorates a file system so that its WAL files (*.log) fail on demand.
class FailingWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
      : FileSystemWrapper(target) {}
  const char* Name() const override { return "FailingWalFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FileSystemWrapper::NewWritableFile(name, options, result, dbg);
    if (s.ok() && IsWal(name)) {
      *result = std::make_unique<FailingWalFile>(std::move(*result), &fail_);
    }
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FileSystemWrapper::ReuseWritableFile(name, old_name, options, result, dbg);
    if (s.ok() && IsWal(name)) {
      *result = std::make_unique<FailingWalFile>(std::move(*result), &fail_);
    }
    return s;
  }

  void FailWal(bool fail) { fail_ = fail; }

 private:
  static bool IsWal(const std::string& name) {
    return name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0;
  }
  std::atomic<bool> fail_{false};
};

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FailingWalFileSystem>(db_.env()->GetFileSystem());
    env_ = rocksdb::NewCompositeEnv(fs_);
    db_.set_env_override(env_.get());
    ASSERT_NE(db_.Open(), nullptr);
    door_ = std::make_unique<CaseDoor>(db_.store(), &db_.keys(), &db_.clock());
    ctx_.principal.id = NewId();
    ctx_.principal.organisation_id = NewId();
    ctx_.principal.roles = {v1::ROLE_CASEWORKER};
    ctx_.purpose = "case-management";
  }
  void TearDown() override {
    door_.reset();
    db_.Close();  // before the env it runs on
  }

  std::string CreateCase() {
    absl::StatusOr<v1::CaseRecord> record =
        door_->CreateCase(ctx_, "case.create", [](CaseScope& scope) {
          v1::Subject s;
          s.set_given_name("Amina");
          s.set_sex(v1::SEX_FEMALE);
          return scope.Save(RecordKind::kSubject, "", s);
        });
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? ToHex(record->id()) : std::string();
  }

  // Reads like CaseService.GetCase: the caller only ever sees `out` when
  // the door returns OK.
  absl::StatusOr<v1::Subject> Read(const std::string& id) {
    v1::Subject out;
    absl::Status s = door_->WithCase(ctx_, id, v1::CASE_ACTION_READ, "case.read",
                                     [&](CaseScope& scope) -> absl::Status {
                                       absl::StatusOr<bool> found =
                                           scope.Load(RecordKind::kSubject, "", &out);
                                       return found.status();
                                     });
    if (!s.ok()) return s;
    return out;
  }

  MemStore db_;
  std::shared_ptr<FailingWalFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<CaseDoor> door_;
  RequestContext ctx_;
};

TEST_F(FaultInjectionTest, ReadSucceedsWhileTheLogCanBeWritten) {
  std::string id = CreateCase();
  absl::StatusOr<v1::Subject> subject = Read(id);
  HAVEN_ASSERT_OK(subject);
  EXPECT_EQ(subject->given_name(), "Amina");
}

TEST_F(FaultInjectionTest, ReadWhoseAuditEntryCannotBeWrittenReturnsAnError) {
  std::string id = CreateCase();
  const uint64_t audited = db_.store()->last_audit_sequence();
  fs_->FailWal(true);
  absl::StatusOr<v1::Subject> subject = Read(id);
  EXPECT_FALSE(subject.ok()) << "the case was handed out without an audit entry";
  EXPECT_THAT(subject, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_EQ(db_.store()->last_audit_sequence(), audited);
}

TEST_F(FaultInjectionTest, CreateWhoseCommitFailsLeavesNoCase) {
  fs_->FailWal(true);
  absl::StatusOr<v1::CaseRecord> record =
      door_->CreateCase(ctx_, "case.create", [](CaseScope& scope) {
        v1::Subject s;
        s.set_given_name("Amina");
        return scope.Save(RecordKind::kSubject, "", s);
      });
  EXPECT_FALSE(record.ok());
  bool any = false;
  HAVEN_EXPECT_OK(db_.store()->Scan(Cf::kCases, "", "", [&](absl::string_view, absl::string_view) {
    any = true;
    return false;
  }));
  EXPECT_FALSE(any);
  EXPECT_EQ(db_.store()->last_audit_sequence(), 0u);
}

}  // namespace
}  // namespace haven::access
