// CrashFileSystem: a file-system decorator for tests that simulates a power
// failure: at Crash() it freezes, and Recover() then drops every byte that
// was not synced (files are cut back to their size at their last Sync or
// Fsync; files never synced are deleted), the idea of LevelDB's
// fault-injection test.
#ifndef HAVEN_TESTS_UNIT_CRASH_FILE_SYSTEM_H_
#define HAVEN_TESTS_UNIT_CRASH_FILE_SYSTEM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rocksdb/file_system.h"

namespace haven::testing {

class CrashFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit CrashFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
      : FileSystemWrapper(target) {}
  const char* Name() const override { return "CrashFileSystem"; }

  // The power fails: from now on every write, sync, rename and deletion
  // fails, so nothing more reaches the files.
  void Crash();
  // After the store on it is closed: cuts every file written since the last
  // Recover (or since this was made) back to what was synced before the
  // crash, and lets writes through again. Returns the unsynced bytes dropped.
  uint64_t Recover();

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;

 private:
  class File;
  // What is known of a file opened for writing since the last Recover.
  struct Written {
    uint64_t size = 0;
    uint64_t synced = 0;
    bool ever_synced = false;
  };
  rocksdb::IOStatus Wrap(const std::string& name, uint64_t existing_size,
                         std::unique_ptr<rocksdb::FSWritableFile>* result);
  // Called by a File; false once crashed.
  bool Appended(const std::string& name, uint64_t bytes);
  bool Synced(const std::string& name);
  rocksdb::IOStatus CutBack(const std::string& name, uint64_t size);

  std::mutex mu_;
  bool crashed_ = false;                  // guarded by mu_
  std::map<std::string, Written> files_;  // guarded by mu_
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_UNIT_CRASH_FILE_SYSTEM_H_
