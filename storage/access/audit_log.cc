// AuditLog: reading and verifying the audit log, for auditors.
#include "storage/access/audit_log.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/access/case_door.h"
#include "storage/audit_witness.h"
#include "storage/ids.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;
using storage::Cf;

}  // namespace

absl::StatusOr<v1::QueryAuditEntriesResponse> AuditLog::Query(
    const RequestContext& ctx, const v1::QueryAuditEntriesRequest& request) {
  if (!ctx.principal.HasRole(v1::ROLE_AUDITOR) || ctx.principal.password_change_required) {
    return absl::PermissionDeniedError("only auditors may read the audit log");
  }
  if (!request.case_id().empty() && !request.principal_id().empty()) {
    return absl::InvalidArgumentError("give at most one of case_id and principal_id");
  }
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size must not be negative");
  const int limit = request.page_size() == 0 ? 100 : std::min(request.page_size(), 1000);
  uint64_t after = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &after)) {
    return absl::InvalidArgumentError("page_token is not one this server issued");
  }
  const int64_t start = request.has_start_time() ? TimestampToMicros(request.start_time()) : INT64_MIN;
  const int64_t end = request.has_end_time() ? TimestampToMicros(request.end_time()) : INT64_MAX;

  // Which column family to walk, and the key prefix there.
  Cf cf = Cf::kAudit;
  std::string prefix;
  std::string canonical_case_id;
  if (!request.case_id().empty()) {
    absl::StatusOr<std::string> raw = ParseId(request.case_id(), "case_id");
    if (!raw.ok()) return raw.status();
    cf = Cf::kAuditByCase;
    prefix = ToHex(*raw);
    canonical_case_id = prefix;
  } else if (!request.principal_id().empty()) {
    if (request.principal_id().size() > 255) return absl::InvalidArgumentError("principal_id is too long");
    cf = Cf::kAuditByPrincipal;
    keys::AppendShortString(&prefix, request.principal_id());
  }
  // Entries' times never go back along the sequence (Store::Commit), so
  // the start of a time range is found by bisection, and its end ends the scan.
  if (start != INT64_MIN) {
    absl::StatusOr<uint64_t> first = FirstSequenceAtOrAfter(start);
    if (!first.ok()) return first.status();
    after = std::max(after, *first - 1);
  }
  std::string resume;
  if (after > 0) {
    resume = prefix;
    keys::AppendU64(&resume, after);
  }

  v1::QueryAuditEntriesResponse response;
  absl::Status read_error;
  absl::Status s = store_->Scan(cf, prefix, resume, [&](absl::string_view key, absl::string_view) {
    key.remove_prefix(prefix.size());
    std::optional<uint64_t> seq = keys::ConsumeU64(&key);
    if (!seq) return true;
    absl::StatusOr<v1::AuditEntry> entry = store_->ReadAuditEntry(*seq);
    if (!entry.ok()) {
      read_error = entry.status();
      return false;
    }
    int64_t t = TimestampToMicros(entry->time());
    if (t >= end) return false;
    if (t < start) return true;
    if (response.entries_size() == limit) {
      response.set_next_page_token(absl::StrCat(response.entries().rbegin()->sequence()));
      return false;
    }
    *response.add_entries() = *std::move(entry);
    return true;
  });
  if (!s.ok()) return s;
  if (!read_error.ok()) return read_error;

  // Reading the log is itself an access worth recording.
  std::unique_ptr<storage::Txn> txn = store_->Begin();
  v1::AuditEntry entry = NewAuditEntry(ctx, "audit.query", "audit");
  entry.set_case_id(canonical_case_id);
  entry.set_outcome(v1::AUDIT_OUTCOME_ALLOWED);
  txn->Audit(std::move(entry));
  if (absl::Status c = store_->Commit(std::move(txn)); !c.ok()) return c;
  return response;
}

absl::StatusOr<uint64_t> AuditLog::FirstSequenceAtOrAfter(int64_t time_micros) {
  uint64_t low = 1;
  uint64_t high = store_->last_audit_sequence() + 1;  // none at or after: past the end
  while (low < high) {
    const uint64_t middle = low + (high - low) / 2;
    absl::StatusOr<v1::AuditEntry> entry = store_->ReadAuditEntry(middle);
    if (!entry.ok()) return entry.status();
    if (TimestampToMicros(entry->time()) < time_micros) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

absl::StatusOr<v1::VerifyAuditChainResponse> AuditLog::Verify(const RequestContext& ctx,
                                                             const crypto::KeyRing& keys) {
  if ((!ctx.principal.HasRole(v1::ROLE_AUDITOR) &&
       !ctx.principal.HasRole(v1::ROLE_ADMINISTRATOR)) ||
      ctx.principal.password_change_required) {
    return absl::PermissionDeniedError("only auditors and administrators may verify the audit log");
  }
  std::optional<v1::AuditCheckpoint> witnessed;
  if (witness_ != nullptr) {
    absl::StatusOr<std::optional<v1::AuditCheckpoint>> latest = witness_->Latest();
    if (!latest.ok()) return latest.status();
    witnessed = *std::move(latest);
  }
  storage::AuditVerification v = store_->VerifyAudit(witnessed ? &*witnessed : nullptr);
  v1::VerifyAuditChainResponse response;
  response.set_ok(v.ok);
  response.set_entries_checked(v.entries);
  response.set_checkpoints_checked(v.checkpoints);
  response.set_first_bad_sequence(v.first_bad_sequence);
  response.set_problem(v.problem);
  response.set_public_key(ToHex(keys.public_key()));
  return response;
}

}  // namespace haven::access
