// AuditWitness: signed heads in a file and in syslog.
#include "storage/audit_witness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/timestamps.h"

namespace haven::storage {
namespace {

constexpr char kTag[] = "haven-audit-head-v2";
// The tail read to find the last line: far more than one line's length.
constexpr off_t kTail = 4096;

// "haven-audit-head-v2 <sequence> <hash hex> <time micros> <instance id> <signature hex>"
std::string Line(const haven::v1::AuditCheckpoint& head) {
  return absl::StrCat(kTag, " ", head.sequence(), " ", absl::BytesToHexString(head.hash()), " ",
                      TimestampToMicros(head.time()), " ", head.instance_id(), " ",
                      absl::BytesToHexString(head.signature()));
}

bool IsHex(absl::string_view s) {
  return !s.empty() && s.size() % 2 == 0 &&
         s.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

}  // namespace

absl::Status AuditWitness::Append(const haven::v1::AuditCheckpoint& head) const {
  const std::string line = Line(head);
  int fd = open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open audit_witness_file ", path_,
                                                      ": ", std::strerror(errno)));
  }
  const std::string text = line + "\n";
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  static std::once_flag opened;
  std::call_once(opened, [] { openlog("havend", LOG_PID | LOG_NDELAY, LOG_DAEMON); });
  syslog(LOG_NOTICE, "%s", line.c_str());
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write audit_witness_file ", path_));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<haven::v1::AuditCheckpoint>> AuditWitness::Latest() const {
  int fd = open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::nullopt;
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open audit_witness_file ", path_,
                                                      ": ", std::strerror(errno)));
  }
  struct stat st;
  std::string tail;
  if (fstat(fd, &st) == 0) {
    const off_t start = st.st_size > kTail ? st.st_size - kTail : 0;
    tail.resize(static_cast<size_t>(st.st_size - start));
    ssize_t n = pread(fd, tail.data(), tail.size(), start);
    tail.resize(n < 0 ? 0 : static_cast<size_t>(n));
  }
  close(fd);
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  if (tail.empty()) return std::nullopt;
  absl::string_view last = tail;
  if (size_t nl = last.rfind('\n'); nl != absl::string_view::npos) last = last.substr(nl + 1);
  std::vector<absl::string_view> f = absl::StrSplit(last, ' ');
  haven::v1::AuditCheckpoint head;
  uint64_t sequence = 0;
  int64_t micros = 0;
  if (f.size() != 6 || f[0] != kTag || !absl::SimpleAtoi(f[1], &sequence) || !IsHex(f[2]) ||
      !absl::SimpleAtoi(f[3], &micros) || !IsHex(f[5])) {
    return absl::DataLossError(absl::StrCat("the last line of audit_witness_file ", path_,
                                            " is malformed"));
  }
  head.set_version(2);
  head.set_sequence(sequence);
  head.set_hash(absl::HexStringToBytes(f[2]));
  *head.mutable_time() = MicrosToTimestamp(micros);
  head.set_instance_id(std::string(f[4]));
  head.set_signature(absl::HexStringToBytes(f[5]));
  return head;
}

}  // namespace haven::storage
