// CrashFileSystem: drops what was never synced at a simulated crash.
#include "tests/unit/crash_file_system.h"

#include <utility>

namespace haven::testing {

namespace {
rocksdb::IOStatus PowerLost() { return rocksdb::IOStatus::IOError("simulated crash: the power is off"); }
}  // namespace

// A file whose appends and syncs are counted, and refused after the crash.
class CrashFileSystem::File : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(std::unique_ptr<rocksdb::FSWritableFile> file, CrashFileSystem* fs, std::string name)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), name_(std::move(name)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (!fs_->Appended(name_, data.size())) return PowerLost();
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (!fs_->Appended(name_, data.size())) return PowerLost();
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Sync(options, dbg);
    if (s.ok() && !fs_->Synced(name_)) return PowerLost();
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Fsync(options, dbg);
    if (s.ok() && !fs_->Synced(name_)) return PowerLost();
    return s;
  }

 private:
  CrashFileSystem* fs_;
  std::string name_;
};

void CrashFileSystem::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  crashed_ = true;
}

uint64_t CrashFileSystem::Recover() {
  std::map<std::string, Written> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files.swap(files_);
  }
  uint64_t dropped = 0;
  for (const auto& [name, written] : files) {
    if (!written.ever_synced) {
      dropped += written.size;
      target()->DeleteFile(name, rocksdb::IOOptions(), nullptr);
    } else if (written.size > written.synced) {
      dropped += written.size - written.synced;
      rocksdb::IOStatus s = CutBack(name, written.synced);
      if (!s.ok()) std::abort();  // the simulation itself failed
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  crashed_ = false;
  return dropped;
}

rocksdb::IOStatus CrashFileSystem::CutBack(const std::string& name, uint64_t size) {
  std::unique_ptr<rocksdb::FSSequentialFile> in;
  rocksdb::IOStatus s = target()->NewSequentialFile(name, rocksdb::FileOptions(), &in, nullptr);
  if (!s.ok()) return s;
  std::string kept(size, '\0');
  rocksdb::Slice read;
  s = in->Read(size, rocksdb::IOOptions(), &read, kept.data(), nullptr);
  if (!s.ok() || read.size() != size) return rocksdb::IOStatus::IOError("short read");
  kept.assign(read.data(), read.size());
  in.reset();
  std::unique_ptr<rocksdb::FSWritableFile> out;
  s = target()->NewWritableFile(name, rocksdb::FileOptions(), &out, nullptr);
  if (s.ok()) s = out->Append(kept, rocksdb::IOOptions(), nullptr);
  if (s.ok()) s = out->Sync(rocksdb::IOOptions(), nullptr);
  if (s.ok()) s = out->Close(rocksdb::IOOptions(), nullptr);
  return s;
}

rocksdb::IOStatus CrashFileSystem::Wrap(const std::string& name, uint64_t existing_size,
                                        std::unique_ptr<rocksdb::FSWritableFile>* result) {
  std::lock_guard<std::mutex> lock(mu_);
  Written& w = files_[name];
  w = Written();
  w.size = w.synced = existing_size;
  w.ever_synced = existing_size > 0;
  if (crashed_) {  // created as the power failed: Recover deletes it
    result->reset();
    return PowerLost();
  }
  *result = std::make_unique<File>(std::move(*result), this, name);
  return rocksdb::IOStatus::OK();
}

bool CrashFileSystem::Appended(const std::string& name, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return false;
  files_[name].size += bytes;
  return true;
}

bool CrashFileSystem::Synced(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return false;
  Written& w = files_[name];
  w.synced = w.size;
  w.ever_synced = true;
  return true;
}

rocksdb::IOStatus CrashFileSystem::NewWritableFile(const std::string& name,
                                                   const rocksdb::FileOptions& options,
                                                   std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                   rocksdb::IODebugContext* dbg) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) return PowerLost();
  }
  rocksdb::IOStatus s = FileSystemWrapper::NewWritableFile(name, options, result, dbg);
  return s.ok() ? Wrap(name, 0, result) : s;
}

rocksdb::IOStatus CrashFileSystem::ReopenWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  uint64_t size = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) return PowerLost();
  }
  if (!target()->GetFileSize(name, rocksdb::IOOptions(), &size, dbg).ok()) size = 0;
  rocksdb::IOStatus s = FileSystemWrapper::ReopenWritableFile(name, options, result, dbg);
  return s.ok() ? Wrap(name, size, result) : s;
}

rocksdb::IOStatus CrashFileSystem::ReuseWritableFile(
    const std::string& name, const std::string& old_name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) return PowerLost();
    files_.erase(old_name);
  }
  rocksdb::IOStatus s = FileSystemWrapper::ReuseWritableFile(name, old_name, options, result, dbg);
  return s.ok() ? Wrap(name, 0, result) : s;
}

rocksdb::IOStatus CrashFileSystem::RenameFile(const std::string& from, const std::string& to,
                                              const rocksdb::IOOptions& options,
                                              rocksdb::IODebugContext* dbg) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return PowerLost();
  rocksdb::IOStatus s = FileSystemWrapper::RenameFile(from, to, options, dbg);
  if (s.ok()) {
    auto it = files_.find(from);
    if (it != files_.end()) {
      files_[to] = it->second;
      files_.erase(from);
    } else {
      files_.erase(to);  // replaced by a file written before tracking began
    }
  }
  return s;
}

rocksdb::IOStatus CrashFileSystem::DeleteFile(const std::string& name,
                                              const rocksdb::IOOptions& options,
                                              rocksdb::IODebugContext* dbg) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return PowerLost();
  rocksdb::IOStatus s = FileSystemWrapper::DeleteFile(name, options, dbg);
  if (s.ok()) files_.erase(name);
  return s;
}

}  // namespace haven::testing
