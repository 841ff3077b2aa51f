// HavenServer: havend assembled.
#include "services/server/haven_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "haven/v1/statistics.grpc.pb.h"
#include "services/admin/admin_service.h"
#include "services/audit/audit_service.h"
#include "services/cases/case_service.h"
#include "services/common/authenticator.h"
#include "services/common/log.h"
#include "services/hotline/hotline_service.h"
#include "services/identification/identification_service.h"
#include "services/liaison/liaison_service.h"
#include "services/protection/hsds.h"
#include "services/protection/protection_desk.h"
#include "services/protection/protection_service.h"
#include "services/referral/partner_link.h"
#include "services/referral/partner_service.h"
#include "services/referral/referral_service.h"
#include "services/repatriation/repatriation_service.h"
#include "services/statistics/statistics_service.h"
#include "storage/access/audit_log.h"
#include "storage/access/liaison_door.h"
#include "storage/access/provider_directory.h"
#include "storage/ids.h"

namespace haven::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(
    const haven::v1::TlsConfig& tls, bool require_client_certificate,
    const std::string& more_client_cas = "") {
  absl::StatusOr<std::string> cert = ReadFile(tls.certificate_file());
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(tls.private_key_file());
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(
      require_client_certificate ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (require_client_certificate) {
    absl::StatusOr<std::string> ca = ReadFile(tls.client_ca_file());
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = absl::StrCat(*ca, "\n", more_client_cas);
  }
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

absl::Status WritePortFile(const std::string& path, int port, int mtls_port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << " " << mtls_port << "\n";
    if (!out) return absl::FailedPreconditionError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// The access layer on the store of `config`.
absl::StatusOr<std::unique_ptr<access::Vault>> OpenVault(const haven::v1::ServerConfig& config,
                                                        const crypto::KeyRing* keys,
                                                        const Clock* clock, rocksdb::Env* env) {
  access::Vault::Options options;
  options.path = config.data_dir();
  options.env = env;
  options.keys = keys;
  options.clock = clock;
  options.checkpoint_interval = static_cast<uint64_t>(config.audit_checkpoint_interval());
  options.audit_witness_file = config.audit_witness_file();
  options.accounts.session_lifetime = absl::Minutes(config.session_minutes());
  options.accounts.password_cost = config.password_hash_cost() == "moderate"
                                       ? crypto::PasswordCost::kModerate
                                       : crypto::PasswordCost::kInteractive;
  options.accounts.login.hashing_slots = config.password_hashing_slots();
  options.accounts.login.attempts_per_address_per_minute =
      config.login_attempts_per_address_per_minute();
  options.emergency_access_max = absl::Hours(config.emergency_access_max_hours());
  return access::Vault::Open(options);
}

crypto::FileKeySource KeySourceOf(const haven::v1::ServerConfig& config) {
  return crypto::FileKeySource(config.master_key_file(), config.audit_signing_key_file(),
                               config.wrap_keys_file());
}

}  // namespace

absl::StatusOr<std::unique_ptr<crypto::KeyRing>> LoadKeys(const haven::v1::ServerConfig& config) {
  if (absl::Status s = crypto::Init(); !s.ok()) return s;
  return crypto::KeyRing::Load(KeySourceOf(config));
}

absl::StatusOr<std::unique_ptr<HavenServer>> HavenServer::Start(
    const haven::v1::ServerConfig& config, Options options) {
  if (absl::Status s = crypto::Init(); !s.ok()) return s;
  std::unique_ptr<HavenServer> server(new HavenServer());
  const Clock* clock = options.clock != nullptr ? options.clock : &server->real_clock_;

  absl::StatusOr<std::unique_ptr<crypto::KeyRing>> keys = LoadKeys(config);
  if (!keys.ok()) return keys.status();
  server->keys_ = *std::move(keys);

  absl::StatusOr<std::unique_ptr<access::Vault>> vault =
      OpenVault(config, server->keys_.get(), clock, options.env);
  if (!vault.ok()) return vault.status();
  server->vault_ = *std::move(vault);
  access::Vault& v = *server->vault_;

  if (v.checkpoint_interval() != static_cast<uint64_t>(config.audit_checkpoint_interval())) {
    services::Log(services::LogLevel::kWarning,
                  "audit_checkpoint_interval is fixed when the store is created; using the store's",
                  {{"store", std::to_string(v.checkpoint_interval())},
                   {"config", std::to_string(config.audit_checkpoint_interval())}});
  }

  absl::StatusOr<std::unique_ptr<services::Partners>> partners =
      services::Partners::Load(config.partners());
  if (!partners.ok()) return partners.status();
  server->partners_ = *std::move(partners);
  auto auth = std::make_unique<services::Authenticator>(&v.accounts(), server->partners_.get());
  const services::Authenticator* a = auth.get();
  auto& svc = server->services_;
  svc.push_back(std::make_unique<admin::AdminServiceImpl>(a, &v.accounts()));
  svc.push_back(
      std::make_unique<audit::AuditServiceImpl>(a, &v.audit_log(), server->keys_.get()));
  auto case_service =
      std::make_unique<cases::CaseServiceImpl>(a, &v.case_door(), &v.accounts(), clock);
  cases::CaseFile* case_file = &case_service->file();
  svc.push_back(std::move(case_service));
  absl::StatusOr<identification::WorkingCalendar> calendar =
      identification::WorkingCalendar::FromRules(config.jurisdiction());
  if (!calendar.ok()) return calendar.status();
  absl::StatusOr<std::unique_ptr<identification::IdentificationDesk>> desk =
      identification::IdentificationDesk::Create(&v.indicator_shelf(), &v.case_door(),
                                                 &v.accounts(), *calendar, clock);
  if (!desk.ok()) return desk.status();
  svc.push_back(
      std::make_unique<identification::IdentificationServiceImpl>(a, *std::move(desk)));
  auto referrals = std::make_unique<referral::ReferralServiceImpl>(
      a, &v.case_door(), &v.accounts(), server->partners_.get(), clock);
  referral::ReferralDesk* referral_desk = &referrals->desk();
  svc.push_back(std::move(referrals));
  auto partner_service = std::make_unique<referral::PartnerServiceImpl>(
      a, &v.case_door(), &v.accounts(), server->partners_.get(), clock);
  referral::PartnerDesk* partner_desk = &partner_service->desk();
  svc.push_back(std::move(partner_service));
  if (config.partners_size() > 0) {
    referral::PartnerLink::Options link;
    absl::StatusOr<std::string> cert = ReadFile(config.mtls().certificate_file());
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(config.mtls().private_key_file());
    if (!key.ok()) return key.status();
    link.certificate_pem = *std::move(cert);
    link.private_key_pem = *std::move(key);
    server->partner_link_ = std::make_unique<referral::PartnerLink>(
        &v.partner_outbox(), &v.case_door(), server->partners_.get(), clock, std::move(link));
    referral::PartnerLink* partner_link = server->partner_link_.get();
    referral_desk->OnPartnerMessageQueued([partner_link] { partner_link->Wake(); });
  }
  statistics::StatisticsDesk::Options statistics_options;
  statistics_options.threshold = config.statistics_suppression_threshold();
  statistics_options.export_k = config.statistics_export_k();
  svc.push_back(std::make_unique<statistics::StatisticsServiceImpl>(
      a, std::make_unique<statistics::StatisticsDesk>(&v.statistics_shelf(), statistics_options)));
  liaison::LiaisonDesk::Options liaison_options;
  liaison_options.receiving_organisation_id = config.liaison_receiving_organisation_id();
  liaison_options.disclosure_max = absl::Hours(24) * config.liaison_disclosure_max_days();
  auto liaison_service = std::make_unique<liaison::LiaisonServiceImpl>(
      a, std::make_unique<liaison::LiaisonDesk>(&v.liaison_door(), clock, liaison_options));
  server->liaison_ = liaison_service.get();
  svc.push_back(std::move(liaison_service));
  absl::TimeZone local_zone = absl::UTCTimeZone();
  if (!config.jurisdiction().time_zone().empty() &&
      !absl::LoadTimeZone(config.jurisdiction().time_zone(), &local_zone)) {
    local_zone = absl::UTCTimeZone();
  }
  protection::ProtectionDesk::Options protection_options;
  protection_options.time_zone = local_zone;
  auto plans = std::make_unique<protection::PlanDesk>(&v.case_door(), referral_desk, &v.accounts(),
                                                     &v.provider_directory(), clock);
  plans->FollowReferrals();
  svc.push_back(std::make_unique<protection::ProtectionServiceImpl>(
      a, std::make_unique<protection::ProtectionDesk>(&v.provider_directory(), protection_options),
      std::move(plans),
      std::make_unique<protection::PermitDesk>(&v.case_door(), clock),
      std::make_unique<protection::MeasuresDesk>(
          &v.case_door(), clock, protection::MeasuresDesk::Options{local_zone})));
  server->liaison_event_retention_ = absl::Hours(24) * config.liaison_event_retention_days();
  server->permit_alert_lead_ = absl::Hours(24) * config.permit_expiry_alert_days();
  server->reflection_alert_lead_ = absl::Hours(24) * config.reflection_end_alert_days();
  repatriation::ReturnDesk::Options return_options;
  return_options.time_zone = local_zone;
  auto returns = std::make_unique<repatriation::ReturnDesk>(&v.case_door(), referral_desk,
                                                            &v.accounts(), clock, return_options);
  returns->WatchConsents(case_file);
  returns->WatchReceptions(partner_desk);
  svc.push_back(
      std::make_unique<repatriation::RepatriationServiceImpl>(a, std::move(returns)));
  hotline::HotlineDesk::Options hotline_options;
  hotline_options.caller_details_retention =
      absl::Hours(24) * config.hotline_caller_details_retention_days();
  hotline_options.time_zone = local_zone;
  auto hotline = std::make_unique<hotline::HotlineServiceImpl>(
      a, std::make_unique<hotline::HotlineDesk>(&v.contact_door(), &v.case_door(), referral_desk,
                                                &v.accounts(), clock, hotline_options));
  server->hotline_ = hotline.get();
  svc.push_back(std::move(hotline));
  server->authenticator_ = std::move(auth);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(config.max_request_bytes());
  // What callers may cost, on both listeners: memory for calls and
  // connections, handler threads, calls per connection.
  grpc::ResourceQuota quota("havend");
  quota.Resize(static_cast<size_t>(config.grpc_memory_quota_mib()) << 20);
  quota.SetMaxThreads(config.max_handler_threads());
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, config.max_concurrent_streams());
  // Keep handler threads alive between bursts: gRPC's default lets all but
  // two idle ones exit, and a thread made anew per burst costs more than the
  // call it serves.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              config.max_handler_threads());
  if (config.tls().certificate_file().empty()) {
    builder.AddListeningPort(config.listen_address(), grpc::InsecureServerCredentials(),
                             &server->port_);
  } else {
    auto creds = TlsCredentials(config.tls(), false);
    if (!creds.ok()) return creds.status();
    builder.AddListeningPort(config.listen_address(), *creds, &server->port_);
  }
  if (!config.mtls_listen_address().empty()) {
    auto creds = TlsCredentials(config.mtls(), true, server->partners_->AllCaPem());
    if (!creds.ok()) return creds.status();
    builder.AddListeningPort(config.mtls_listen_address(), *creds, &server->mtls_port_);
  }
  for (auto& service : svc) builder.RegisterService(service.get());
  // A store that refuses writes after a failed one makes havend unhealthy,
  // so that a load balancer or orchestrator stops sending it callers.
  server->vault_->OnWriteFailure([s = server.get()] {
    services::Log(services::LogLevel::kError, "the store refuses writes after a failed one",
                  {{"action", "restart havend once the disk is fixed"}});
    if (s->server_ != nullptr) s->server_->GetHealthCheckService()->SetServingStatus(false);
  });
  // Every erasure wakes the purge of what the erased case's key ranges held.
  server->vault_->case_door().OnErased([s = server.get()] { s->erasure_purger_.Wake(); });
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0 ||
      (!config.mtls_listen_address().empty() && server->mtls_port_ == 0)) {
    return absl::UnavailableError("cannot listen on the configured addresses");
  }
  if (!config.port_file().empty()) {
    if (absl::Status s = WritePortFile(config.port_file(), server->port_, server->mtls_port_);
        !s.ok()) {
      return s;
    }
    server->port_file_ = config.port_file();
  }
  // The retention purge runs now and then every configured interval.
  server->hotline_->StartPurger(absl::Minutes(config.hotline_purge_interval_minutes()));
  // Sessions that can never be used again are removed at start-up and hourly.
  server->PurgeEndedSessions();
  server->session_purger_.Start(absl::Hours(1), [s = server.get()] { s->PurgeEndedSessions(); });
  // So are the agencies' liaison events past their retention.
  server->PurgeLiaisonEvents();
  server->liaison_purger_.Start(absl::Hours(1), [s = server.get()] { s->PurgeLiaisonEvents(); });
  // Erased cases' key ranges are purged from the files at start-up (what a
  // crash left), when an erasure wakes the job, and hourly.
  server->PurgeErasedCases();
  server->erasure_purger_.Start(absl::Hours(1), [s = server.get()] { s->PurgeErasedCases(); });
  // What falls due is alerted at start-up and every configured interval.
  server->RaiseDueAlerts();
  server->due_alerter_.Start(absl::Minutes(config.due_alert_interval_minutes()),
                             [s = server.get()] { s->RaiseDueAlerts(); });
  // The signed head of the audit chain goes to audit_witness_file, syslog
  // and the log at start-up, every minute it moved and at shutdown: a
  // witness kept outside the store (refused, and logged as an error, while
  // the store does not reach the last witnessed head).
  server->WitnessAuditHead();
  server->head_witness_.Start(absl::Minutes(1), [s = server.get()] { s->WitnessAuditHead(); });
  // Backups into backup_directory: one now and every configured interval.
  server->backup_directory_ = config.backup_directory();
  server->backups_to_keep_ = config.backups_to_keep();
  if (!server->backup_directory_.empty()) {
    server->backuper_.Start(absl::Minutes(config.backup_interval_minutes()),
                            [s = server.get()] { (void)s->Backup(); });
    server->backuper_.Wake();
  }
  // Messages for partners queued before a restart go out now.
  if (server->partner_link_ != nullptr && options.partner_worker) server->partner_link_->Start();
  services::Log(services::LogLevel::kInfo, "listening",
                {{"port", std::to_string(server->port_)},
                 {"mtls_port", std::to_string(server->mtls_port_)},
                 {"audit_sequence", std::to_string(v.last_audit_sequence())}});
  return server;
}

HavenServer::~HavenServer() {
  Shutdown(absl::Now());
}

std::shared_ptr<grpc::Channel> HavenServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void HavenServer::Shutdown(absl::Time deadline) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  if (!port_file_.empty()) std::remove(port_file_.c_str());  // no longer true
  if (hotline_ != nullptr) hotline_->StopPurger();
  if (partner_link_ != nullptr) partner_link_->Stop();
  if (liaison_ != nullptr) liaison_->Stop();  // ends Watch streams, which would hold shutdown
  session_purger_.Stop();
  liaison_purger_.Stop();
  erasure_purger_.Stop();
  due_alerter_.Stop();
  head_witness_.Stop();
  backuper_.Stop();  // a backup under way finishes first
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  WitnessAuditHead();
}

void HavenServer::Wait() { server_->Wait(); }

void HavenServer::WitnessAuditHead() {
  if (vault_->last_audit_sequence() == witnessed_sequence_) return;
  absl::StatusOr<haven::v1::AuditCheckpoint> head = vault_->WitnessAuditHead();
  if (!head.ok()) {
    services::Log(services::LogLevel::kError, "audit head not witnessed",
                  {{"code", absl::StatusCodeToString(head.status().code())},
                   {"error", std::string(head.status().message())}});
    return;  // tried again at the next interval
  }
  witnessed_sequence_ = head->sequence();
  services::Log(services::LogLevel::kInfo, "audit head",
                {{"sequence", std::to_string(head->sequence())},
                 {"hash", ToHex(head->hash())},
                 {"instance", head->instance_id()},
                 {"signature", ToHex(head->signature())}});
}

namespace {

// Logs what a background job did: its failure's code, or how many `things`
// it handled when any.
void LogJob(const absl::StatusOr<int>& done, const char* failed, const char* succeeded,
            const char* things) {
  if (!done.ok()) {
    services::Log(services::LogLevel::kWarning, failed,
                  {{"code", absl::StatusCodeToString(done.status().code())}});
  } else if (*done > 0) {
    services::Log(services::LogLevel::kInfo, succeeded, {{things, std::to_string(*done)}});
  }
}

}  // namespace

absl::StatusOr<storage::BackupSummary> HavenServer::Backup() {
  if (backup_directory_.empty()) {
    return absl::FailedPreconditionError("no backup_directory is configured");
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<storage::BackupSummary> made = vault_->Backup(backup_directory_, backups_to_keep_);
  if (!made.ok()) {
    services::Log(services::LogLevel::kError, "backup failed",
                  {{"code", absl::StatusCodeToString(made.status().code())},
                   {"error", std::string(made.status().message())}});
    return made;
  }
  services::Log(services::LogLevel::kInfo, "backup made",
                {{"backup", std::to_string(made->id)},
                 {"audit_sequence", std::to_string(made->audit_sequence)},
                 {"bytes", std::to_string(made->bytes)},
                 {"seconds", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - start))}});
  return made;
}

bool HavenServer::RequestBackup() {
  if (backup_directory_.empty()) return false;
  backuper_.Wake();
  return true;
}

void HavenServer::PurgeEndedSessions() {
  LogJob(vault_->accounts().PurgeEndedSessions(), "session purge failed", "ended sessions purged",
         "sessions");
}

void HavenServer::PurgeLiaisonEvents() {
  LogJob(vault_->liaison_door().PurgeEvents(liaison_event_retention_), "liaison event purge failed",
         "liaison events past their retention purged", "events");
}

void HavenServer::PurgeErasedCases() {
  LogJob(vault_->case_door().PurgeErasedCases(), "erasure purge failed",
         "erased cases purged from the files", "cases");
}

void HavenServer::RaiseDueAlerts() {
  struct Due {
    haven::v1::WatchKind watch;
    absl::Duration lead;
    haven::v1::AlertKind alert;
  };
  for (const Due& due :
       {Due{haven::v1::WATCH_KIND_PERMIT_EXPIRY, permit_alert_lead_,
            haven::v1::ALERT_KIND_PERMIT_EXPIRING},
        Due{haven::v1::WATCH_KIND_PLAN_ITEM_DUE, absl::ZeroDuration(),
            haven::v1::ALERT_KIND_PLAN_ITEM_OVERDUE},
        Due{haven::v1::WATCH_KIND_RETURN_FOLLOW_UP_DUE, absl::ZeroDuration(),
            haven::v1::ALERT_KIND_RETURN_FOLLOW_UP_OVERDUE},
        Due{haven::v1::WATCH_KIND_REFLECTION_ENDING, reflection_alert_lead_,
            haven::v1::ALERT_KIND_REFLECTION_ENDING}}) {
    absl::StatusOr<int> raised = vault_->case_door().RaiseDueAlerts(due.watch, due.lead, due.alert);
    if (!raised.ok()) {
      services::Log(services::LogLevel::kWarning, "due alerts failed",
                    {{"watch", haven::v1::WatchKind_Name(due.watch)},
                     {"code", absl::StatusCodeToString(raised.status().code())}});
    } else if (*raised > 0) {
      services::Log(services::LogLevel::kInfo, "due alerts raised",
                    {{"watch", haven::v1::WatchKind_Name(due.watch)},
                     {"cases", std::to_string(*raised)}});
    }
  }
  // Disclosures to law enforcement that ran out are told to the agencies.
  LogJob(vault_->liaison_door().RecordDisclosureExpiries(), "disclosure expiries failed",
         "disclosure expiries told to agencies", "events");
}

namespace {

// The initial directory file, read and checked before the store is touched.
absl::StatusOr<std::string> ReadInitialDirectory(const haven::v1::ServerConfig& config) {
  if (config.initial_directory_file().empty()) return std::string();
  absl::StatusOr<std::string> json = ReadFile(config.initial_directory_file());
  if (!json.ok()) return json.status();
  if (absl::StatusOr<haven::v1::DirectorySnapshot> parsed = protection::ParseHsds(*json);
      !parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("initial_directory_file ",
                                                   config.initial_directory_file(), ": ",
                                                   parsed.status().message()));
  }
  return json;
}

// Imports an HSDS document as the mechanism administration itself (audited
// as "system:init"), through the same checks as ImportDirectory.
absl::StatusOr<haven::v1::ImportDirectoryResponse> ImportInitialDirectory(
    access::Vault& vault, const std::string& administration_id, const std::string& json) {
  access::RequestContext system;
  system.principal.id = "system:init";
  system.principal.organisation_id = administration_id;
  system.principal.organisation_type = haven::v1::ORGANISATION_TYPE_COMPETENT_AUTHORITY;
  system.principal.roles = {haven::v1::ROLE_ADMINISTRATOR};
  system.purpose = "bootstrap";
  protection::ProtectionDesk desk(&vault.provider_directory(), {});
  return desk.Import(system, json);
}

}  // namespace

namespace {

// The store of a config opened outside a serving havend (init, backup), with
// the key ring and the clock it runs on.
struct OfflineStore {
  std::unique_ptr<crypto::KeyRing> keys;
  RealClock clock;
  std::unique_ptr<access::Vault> vault;  // declared last: closed first
};

absl::Status OpenOffline(const haven::v1::ServerConfig& config, OfflineStore* out) {
  absl::StatusOr<std::unique_ptr<crypto::KeyRing>> keys = LoadKeys(config);
  if (!keys.ok()) return keys.status();
  out->keys = *std::move(keys);
  absl::StatusOr<std::unique_ptr<access::Vault>> vault =
      OpenVault(config, out->keys.get(), &out->clock, nullptr);
  if (!vault.ok()) return vault.status();
  out->vault = *std::move(vault);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<storage::BackupSummary> BackUpStoppedStore(const haven::v1::ServerConfig& config,
                                                          const std::string& to) {
  const std::string dir = to.empty() ? config.backup_directory() : to;
  if (dir.empty()) {
    return absl::InvalidArgumentError(
        "say where to back up: --to DIR, or backup_directory in the config");
  }
  struct stat st;
  if (stat(config.data_dir().c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("there is no store at ", config.data_dir()));
  }
  if (absl::Status s = crypto::Init(); !s.ok()) return s;
  OfflineStore store;
  if (absl::Status s = OpenOffline(config, &store); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        s.message(),
        "; if havend is running, it makes the backups itself: set backup_directory, or send it "
        "SIGUSR1 for one now"));
  }
  return store.vault->Backup(dir, config.backups_to_keep());
}

absl::StatusOr<Initialized> InitDataDirectory(const haven::v1::ServerConfig& config,
                                              const std::string& admin_username) {
  if (absl::Status s = crypto::Init(); !s.ok()) return s;
  absl::StatusOr<std::string> directory_json = ReadInitialDirectory(config);
  if (!directory_json.ok()) return directory_json.status();
  for (const std::string& file : {config.master_key_file(), config.audit_signing_key_file()}) {
    struct stat st;
    if (lstat(file.c_str(), &st) != 0) {
      if (absl::Status s = crypto::KeyRing::CreateKeyFile(file); !s.ok()) return s;
    }
  }
  OfflineStore store;
  if (absl::Status s = OpenOffline(config, &store); !s.ok()) return s;
  absl::StatusOr<access::Accounts::Bootstrapped> bootstrapped =
      store.vault->accounts().Bootstrap("Mechanism administration", admin_username);
  if (!bootstrapped.ok()) return bootstrapped.status();
  Initialized result;
  static_cast<access::Accounts::Bootstrapped&>(result) = *std::move(bootstrapped);
  if (!result.created || directory_json->empty()) return result;
  absl::StatusOr<haven::v1::ImportDirectoryResponse> imported =
      ImportInitialDirectory(*store.vault, result.organisation_id, *directory_json);
  if (!imported.ok()) return imported.status();
  result.directory = *std::move(imported);
  return result;
}

absl::StatusOr<RotationReport> RotateKeys(const haven::v1::ServerConfig& config,
                                          const Clock& clock) {
  crypto::FileKeySource source = KeySourceOf(config);
  if (absl::Status s = crypto::Init(); !s.ok()) return s;
  absl::StatusOr<std::vector<crypto::WrapEpoch>> epochs = source.WrapEpochs();
  if (!epochs.ok()) return epochs.status();
  if (epochs->empty()) epochs->push_back(crypto::WrapEpoch());  // epoch 1, from the master key
  // An epoch older than the newest still in use: a rotation that did not
  // finish, resumed rather than started again.
  const bool unfinished = std::any_of(epochs->begin(), epochs->end() - 1,
                                      [](const crypto::WrapEpoch& e) { return e.retired_micros == 0; });
  if (!unfinished) {
    crypto::WrapEpoch next;
    next.number = epochs->back().number + 1;
    next.secret = crypto::SecretKey::Random();
    epochs->push_back(std::move(next));
    if (absl::Status s = source.SaveWrapEpochs(*epochs); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<crypto::KeyRing>> keys = crypto::KeyRing::Load(source);
  if (!keys.ok()) return keys.status();
  absl::StatusOr<std::unique_ptr<access::Vault>> vault = OpenVault(config, keys->get(), &clock, nullptr);
  if (!vault.ok()) return vault.status();
  RotationReport report;
  report.epoch = (*keys)->newest_epoch();
  absl::StatusOr<uint64_t> rewrapped = (*vault)->RewrapDataKeys();
  if (!rewrapped.ok()) return rewrapped.status();
  report.rewrapped = *rewrapped;
  const int64_t now = absl::ToUnixMicros(clock.Now());
  for (crypto::WrapEpoch& epoch : *epochs) {
    if (epoch.number != report.epoch && epoch.retired_micros == 0) epoch.retired_micros = now;
  }
  if (absl::Status s = source.SaveWrapEpochs(*epochs); !s.ok()) return s;
  vault->reset();
  absl::StatusOr<std::vector<uint32_t>> destroyed = DestroyRetiredKeys(config, clock);
  if (!destroyed.ok()) return destroyed.status();
  report.destroyed = *std::move(destroyed);
  return report;
}

absl::StatusOr<std::vector<uint32_t>> DestroyRetiredKeys(const haven::v1::ServerConfig& config,
                                                        const Clock& clock) {
  crypto::FileKeySource source = KeySourceOf(config);
  absl::StatusOr<std::vector<crypto::WrapEpoch>> epochs = source.WrapEpochs();
  if (!epochs.ok()) return epochs.status();
  const int64_t retention = absl::ToInt64Microseconds(absl::Hours(24) * config.backup_retention_days());
  const int64_t now = absl::ToUnixMicros(clock.Now());
  auto expired = [&](const crypto::WrapEpoch& e) {
    return e.number != epochs->back().number && e.retired_micros != 0 &&
           now >= e.retired_micros + retention;
  };
  if (std::none_of(epochs->begin(), epochs->end(), expired)) return std::vector<uint32_t>();
  absl::StatusOr<std::unique_ptr<crypto::KeyRing>> keys = LoadKeys(config);
  if (!keys.ok()) return keys.status();
  absl::StatusOr<std::unique_ptr<access::Vault>> vault = OpenVault(config, keys->get(), &clock, nullptr);
  if (!vault.ok()) return vault.status();
  absl::StatusOr<std::map<uint32_t, uint64_t>> in_use = (*vault)->CountDataKeysByEpoch();
  if (!in_use.ok()) return in_use.status();
  std::vector<uint32_t> destroyed;
  std::vector<crypto::WrapEpoch> kept;
  for (crypto::WrapEpoch& epoch : *epochs) {
    if (!expired(epoch)) {
      kept.push_back(std::move(epoch));
      continue;
    }
    if (auto used = in_use->find(epoch.number); used != in_use->end() && used->second > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "wrap-key epoch ", epoch.number, " still wraps ", used->second,
          " data keys; run havend rotate-keys to re-wrap them before it is destroyed"));
    }
    destroyed.push_back(epoch.number);
  }
  if (absl::Status s = source.SaveWrapEpochs(kept); !s.ok()) return s;
  return destroyed;
}

absl::StatusOr<haven::v1::VerifyAuditChainResponse> VerifyAudit(
    const haven::v1::ServerConfig& config) {
  absl::StatusOr<std::unique_ptr<crypto::KeyRing>> keys = LoadKeys(config);
  if (!keys.ok()) return keys.status();
  RealClock clock;
  absl::StatusOr<std::unique_ptr<access::Vault>> vault = OpenVault(config, keys->get(), &clock, nullptr);
  if (!vault.ok()) return vault.status();
  access::RequestContext system;
  system.principal.id = "system:audit-verify";
  system.principal.roles = {haven::v1::ROLE_AUDITOR};
  system.purpose = "audit";
  return (*vault)->audit_log().Verify(system, **keys);
}

}  // namespace haven::server
