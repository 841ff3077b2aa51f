// Config: havend's configuration file, read, defaulted and checked.
#include "services/server/config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "storage/codes.h"

namespace haven::server {
namespace {

std::string Resolve(const std::string& dir, const std::string& file) {
  if (file.empty() || file[0] == '/' || dir.empty()) return file;
  return absl::StrCat(dir, "/", file);
}

bool IsPartnerId(absl::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

absl::Status FinishPartners(haven::v1::ServerConfig& config) {
  if (config.partners_size() > 0 && config.mtls_listen_address().empty()) {
    return absl::InvalidArgumentError(
        "partners need the mTLS listener: set mtls_listen_address and mtls");
  }
  std::set<std::string> ids;
  for (haven::v1::PartnerConfig& partner : *config.mutable_partners()) {
    if (partner.max_referrals_per_hour() <= 0) partner.set_max_referrals_per_hour(100);
    if (!IsPartnerId(partner.id())) {
      return absl::InvalidArgumentError("a partner id is 1 to 32 characters [a-z0-9-]");
    }
    if (!ids.insert(partner.id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("partner ", partner.id(), " is listed twice"));
    }
    if (!IsCountryCode(partner.country())) {
      return absl::InvalidArgumentError(
          absl::StrCat("partner ", partner.id(), ": country must be an ISO 3166-1 alpha-2 code"));
    }
    if (partner.address().empty() || partner.ca_file().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("partner ", partner.id(), " needs address and ca_file"));
    }
    if (partner.public_key_sha256().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "partner ", partner.id(),
          " needs public_key_sha256: the pins of its client certificates' keys (see README)"));
    }
    for (const std::string& pin : partner.public_key_sha256()) {
      if (!IsSha256Hex(pin)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "partner ", partner.id(),
            ": public_key_sha256 must be 64 lower-case hex characters (SHA-256 of the DER "
            "SubjectPublicKeyInfo)"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  return absl::StartsWith(address, "127.") || absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "[::1]:");
}

absl::StatusOr<haven::v1::ServerConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  haven::v1::ServerConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &config)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, " is not a valid text-format haven.v1.ServerConfig"));
  }
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  config.set_data_dir(Resolve(dir, config.data_dir()));
  config.set_master_key_file(Resolve(dir, config.master_key_file()));
  config.set_audit_signing_key_file(Resolve(dir, config.audit_signing_key_file()));
  config.set_audit_witness_file(Resolve(dir, config.audit_witness_file()));
  config.set_wrap_keys_file(Resolve(dir, config.wrap_keys_file()));
  config.set_port_file(Resolve(dir, config.port_file()));
  config.set_backup_directory(Resolve(dir, config.backup_directory()));
  for (haven::v1::TlsConfig* tls : {config.mutable_tls(), config.mutable_mtls()}) {
    tls->set_certificate_file(Resolve(dir, tls->certificate_file()));
    tls->set_private_key_file(Resolve(dir, tls->private_key_file()));
    tls->set_client_ca_file(Resolve(dir, tls->client_ca_file()));
  }
  config.set_initial_directory_file(Resolve(dir, config.initial_directory_file()));
  for (haven::v1::PartnerConfig& partner : *config.mutable_partners()) {
    partner.set_ca_file(Resolve(dir, partner.ca_file()));
  }
  return Finish(std::move(config));
}

absl::StatusOr<haven::v1::ServerConfig> Finish(haven::v1::ServerConfig config) {
  if (config.data_dir().empty()) return absl::InvalidArgumentError("data_dir is required");
  if (config.master_key_file().empty()) {
    return absl::InvalidArgumentError("master_key_file is required");
  }
  if (config.audit_signing_key_file().empty() ||
      config.audit_signing_key_file() == config.master_key_file()) {
    return absl::InvalidArgumentError(
        "audit_signing_key_file is required, apart from master_key_file: the audit chain is "
        "signed with a key of its own (havend init creates it)");
  }
  if (config.audit_witness_file().empty()) {
    return absl::InvalidArgumentError(
        "audit_witness_file is required: signed audit heads are kept there, outside data_dir");
  }
  if (absl::StartsWith(config.audit_witness_file(), config.data_dir() + "/")) {
    return absl::InvalidArgumentError(
        "audit_witness_file must be outside data_dir, or a copy of the store carries its witness");
  }
  if (config.backup_retention_days() <= 0) config.set_backup_retention_days(35);
  if (config.listen_address().empty()) config.set_listen_address("127.0.0.1:7443");
  if (config.tls().certificate_file().empty() && !IsLoopbackAddress(config.listen_address())) {
    return absl::InvalidArgumentError(
        "listen_address is not a loopback address: configure tls, or listen on 127.0.0.1");
  }
  if (!config.mtls_listen_address().empty() &&
      (config.mtls().certificate_file().empty() || config.mtls().private_key_file().empty() ||
       config.mtls().client_ca_file().empty())) {
    return absl::InvalidArgumentError(
        "mtls_listen_address needs mtls.certificate_file, mtls.private_key_file and "
        "mtls.client_ca_file");
  }
  if (config.max_request_bytes() <= 0) config.set_max_request_bytes(1 << 20);
  if (config.session_minutes() <= 0) config.set_session_minutes(480);
  if (config.password_hashing_slots() <= 0) config.set_password_hashing_slots(2);
  if (config.login_attempts_per_address_per_minute() <= 0) {
    config.set_login_attempts_per_address_per_minute(60);
  }
  if (config.max_concurrent_streams() <= 0) config.set_max_concurrent_streams(100);
  if (config.grpc_memory_quota_mib() <= 0) config.set_grpc_memory_quota_mib(512);
  if (config.max_handler_threads() <= 0) config.set_max_handler_threads(64);
  if (config.password_hash_cost().empty()) config.set_password_hash_cost("interactive");
  if (config.password_hash_cost() != "interactive" && config.password_hash_cost() != "moderate") {
    return absl::InvalidArgumentError("password_hash_cost is \"interactive\" or \"moderate\"");
  }
  if (config.audit_checkpoint_interval() <= 0) config.set_audit_checkpoint_interval(256);
  if (config.shutdown_grace_seconds() <= 0) config.set_shutdown_grace_seconds(10);
  if (config.hotline_caller_details_retention_days() <= 0) {
    config.set_hotline_caller_details_retention_days(30);
  }
  if (config.hotline_purge_interval_minutes() <= 0) config.set_hotline_purge_interval_minutes(60);
  if (config.emergency_access_max_hours() <= 0) config.set_emergency_access_max_hours(72);
  if (config.permit_expiry_alert_days() <= 0) config.set_permit_expiry_alert_days(30);
  if (config.statistics_suppression_threshold() <= 0) config.set_statistics_suppression_threshold(10);
  if (config.statistics_export_k() <= 0) config.set_statistics_export_k(10);
  if (config.liaison_disclosure_max_days() <= 0) config.set_liaison_disclosure_max_days(30);
  if (config.liaison_event_retention_days() <= 0) config.set_liaison_event_retention_days(400);
  if (config.due_alert_interval_minutes() <= 0) config.set_due_alert_interval_minutes(60);
  if (config.reflection_end_alert_days() <= 0) config.set_reflection_end_alert_days(7);
  if (config.backup_interval_minutes() <= 0) config.set_backup_interval_minutes(60);
  if (config.backups_to_keep() <= 0) config.set_backups_to_keep(48);
  // A retired wrap-key epoch is destroyed backup_retention_days after its
  // retirement: a backup kept longer could no longer open any case.
  const int64_t kept_minutes =
      int64_t{config.backups_to_keep()} * config.backup_interval_minutes();
  if (!config.backup_directory().empty() &&
      kept_minutes > int64_t{config.backup_retention_days()} * 24 * 60) {
    return absl::InvalidArgumentError(absl::StrCat(
        "backups_to_keep x backup_interval_minutes keeps backups for ", kept_minutes / 60,
        " hours, longer than backup_retention_days (", config.backup_retention_days(),
        "): keep fewer backups or raise backup_retention_days, or old backups lose their keys"));
  }
  if (absl::Status s = FinishPartners(config); !s.ok()) return s;
  return config;
}

}  // namespace haven::server
