// haven_bench: a closed-loop load client. It starts havend's server on a
// temporary data directory on disk, and measures, at 1, 8 and 64 requests in
// flight, each against a baseline measured in the same run:
//   - the null RPC (gRPC health check) on the same server,
//   - raw RocksDB synced writes (a plain DB beside it, same disk),
//   - CreateCase: an authenticated, audited, encrypted, synced write RPC,
//   - GetCase: an audited read RPC,
//   - SearchServices: a shelter search in a directory of 10,000 services
//     (loaded through ImportDirectory first), against the null RPC,
// and the median time of one authorization decision; then, once, the time
// from a case's change to its event on a liaison system's open Watch
// stream (liaison_watch), against the change RPC alone; then, once, a
// three-dimension cross-tabulation (sex x form x citizenship, protected)
// by StatisticsService.GetCounts over --statistics-records generated
// statistics records (default 1,000,000), against a raw read scan of the
// same records in the same store.
//
//   haven_bench [--seconds S] [--inflight 1,8,64] [--only WORKLOAD] [--dir DIR]
//               [--statistics-records N]
// --only runs one workload and the two baselines.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/case.grpc.pb.h"
#include "haven/v1/liaison.grpc.pb.h"
#include "haven/v1/protection.grpc.pb.h"
#include "haven/v1/statistics.grpc.pb.h"
#include "rocksdb/db.h"
#include "services/server/config.h"
#include "services/protection/hsds.h"
#include "services/server/haven_server.h"
#include "services/statistics/tables.h"
#include "storage/access/policy.h"
#include "storage/access/statistics_shelf.h"
#include "storage/access/vault.h"
#include "storage/crypto.h"
#include "storage/store.h"

namespace {

namespace v1 = haven::v1;
using Clock = std::chrono::steady_clock;

struct Result {
  double qps = 0;
  double p50_us = 0;
  double p99_us = 0;
  int errors = 0;
};

// Runs `call` from `inflight` threads in a closed loop for `seconds`.
Result RunClosedLoop(int inflight, double seconds, const std::function<bool(int thread, int i)>& call) {
  std::vector<std::vector<double>> latencies(inflight);
  std::atomic<int> errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int t = 0; t < inflight; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto begin = Clock::now();
        if (!call(t, i)) errors++;
        latencies[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.errors = errors;
  if (all.empty()) return r;
  r.qps = all.size() / elapsed;
  r.p50_us = all[all.size() / 2];
  r.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return r;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->AddMetadata("x-haven-purpose", "benchmark");
  return ctx;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "haven_bench: %s\n", what.c_str());
  std::exit(1);
}

// Logs in, changing a one-time password when asked to; returns the token.
std::string LoginAs(v1::AdminService::Stub& admin, const std::string& user,
                    const std::string& password) {
  grpc::ClientContext ctx;
  v1::LoginRequest req;
  req.set_username(user);
  req.set_password(password);
  v1::LoginResponse resp;
  if (!admin.Login(&ctx, req, &resp).ok()) Die("login failed");
  if (resp.password_change_required()) {
    v1::ChangePasswordRequest change;
    change.set_current_password(password);
    change.set_new_password("benchmark-password-1");
    v1::ChangePasswordResponse changed;
    if (!admin.ChangePassword(Ctx(resp.token()).get(), change, &changed).ok()) Die("passwd failed");
  }
  return resp.token();
}

// A new organisation and a user of it with `role`, logged in: the
// organisation's id and the user's token.
std::pair<std::string, std::string> NewTeam(v1::AdminService::Stub& admin,
                                            const std::string& admin_token,
                                            const std::string& name, v1::OrganisationType type,
                                            const std::string& username, v1::Role role) {
  v1::CreateOrganisationRequest org_req;
  org_req.mutable_organisation()->set_display_name(name);
  org_req.mutable_organisation()->set_type(type);
  v1::Organisation org;
  if (!admin.CreateOrganisation(Ctx(admin_token).get(), org_req, &org).ok()) Die("org " + name);
  v1::CreateUserRequest user_req;
  user_req.mutable_user()->set_username(username);
  user_req.mutable_user()->set_display_name(name + " " + username);
  user_req.mutable_user()->set_organisation_id(org.id());
  user_req.mutable_user()->add_roles(role);
  v1::CreateUserResponse user;
  if (!admin.CreateUser(Ctx(admin_token).get(), user_req, &user).ok()) Die("user " + username);
  return {org.id(), LoginAs(admin, username, user.initial_password())};
}

double MedianDecisionNanos() {
  haven::access::RequestContext ctx;
  ctx.purpose = haven::access::kNoDeclaredPurpose;
  haven::access::Principal& p = ctx.principal;
  p.id = "11111111111111111111111111111111";
  p.organisation_id = "22222222222222222222222222222222";
  p.roles = {v1::ROLE_SERVICE_PROVIDER_STAFF};
  v1::CaseRecord record;
  record.set_owning_organisation_id("33333333333333333333333333333333");
  record.set_status(v1::CASE_STATUS_OPEN);
  std::vector<v1::GrantRecord> grants(3);
  for (auto& g : grants) {
    g.set_grantee_organisation_id("44444444444444444444444444444444");
    g.add_classes(v1::CONFIDENTIALITY_ADMINISTRATIVE);
    g.add_actions(v1::CASE_ACTION_READ);
    g.set_expire_time_micros(INT64_MAX);
  }
  grants[2].set_grantee_organisation_id(p.organisation_id);
  absl::Time now = absl::Now();
  constexpr int kBatch = 1000;
  std::vector<double> samples;
  int allowed = 0;
  for (int s = 0; s < 1000; ++s) {
    auto begin = Clock::now();
    for (int i = 0; i < kBatch; ++i) {
      allowed += haven::access::DecideCaseAccess(ctx, v1::CASE_ACTION_READ, record, grants, now).allowed;
    }
    samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - begin).count() / kBatch);
  }
  if (allowed != 1000 * kBatch) Die("authorization decision gave the wrong answer");
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// The directory workload's shape: services spread over regions, languages
// and kinds, so that every region has every kind and language; every other
// service a shelter (for women, or for men) that also takes families.
constexpr int kDirectoryServices = 10000;
constexpr int kDirectoryProviders = 500;
constexpr int kDirectoryRegions = 50;
const char* const kDirectoryLanguages[] = {"en", "ar", "ti", "ro", "uk", "fa"};
constexpr v1::ServiceKind kOtherKinds[] = {v1::SERVICE_KIND_MEDICAL, v1::SERVICE_KIND_PSYCHOLOGICAL,
                                           v1::SERVICE_KIND_LEGAL_AID,
                                           v1::SERVICE_KIND_INTERPRETATION};

std::string DirectoryRegion(int n) { return absl::StrFormat("Region %02d", n % kDirectoryRegions); }
const char* DirectoryLanguage(int n) { return kDirectoryLanguages[1 + n % 5]; }

// A 32-hex-digit id, distinct per (kind of record, n).
std::string DirectoryId(int record, int n) { return absl::StrFormat("%08x%024x", record, n + 1); }

v1::ProviderService DirectoryService(int n) {
  v1::ProviderService service;
  service.set_id(DirectoryId(2, n));
  service.set_organisation_id(DirectoryId(1, n % kDirectoryProviders));
  service.set_name(absl::StrCat("Service ", n));
  service.set_status(v1::SERVICE_STATUS_ACTIVE);
  service.add_regions(DirectoryRegion(n / 4));
  service.add_languages("en");
  service.add_languages(DirectoryLanguage(n / (4 * kDirectoryRegions)));
  service.set_open_all_hours(true);
  service.set_time_zone("Europe/Vienna");
  if (n % 2 == 1) {
    service.set_kind(kOtherKinds[(n / 4) % 4]);
    return service;
  }
  service.set_kind(v1::SERVICE_KIND_SHELTER);
  v1::ShelterPlaces* shelter = service.mutable_shelter();
  shelter->add_takes(n % 4 == 0 ? v1::SHELTER_GROUP_WOMEN : v1::SHELTER_GROUP_MEN);
  shelter->add_takes(v1::SHELTER_GROUP_FAMILIES);
  shelter->set_capacity(12);
  shelter->set_free_places(n % 7);
  return service;
}

// The whole benchmark directory as an HSDS document.
std::string DirectoryDocument() {
  v1::DirectorySnapshot snapshot;
  for (int p = 0; p < kDirectoryProviders; ++p) {
    v1::Organisation* org = snapshot.add_organisations();
    org->set_id(DirectoryId(1, p));
    org->set_display_name(absl::StrCat("Provider ", p));
    org->set_type(v1::ORGANISATION_TYPE_SERVICE_PROVIDER);
    org->set_country("AT");
  }
  for (int n = 0; n < kDirectoryServices; ++n) *snapshot.add_services() = DirectoryService(n);
  return haven::protection::WriteHsds(snapshot);
}

// Streams the benchmark directory to ImportDirectory as an administrator.
void LoadDirectory(v1::ProtectionService::Stub& protection, const std::string& admin_token) {
  const auto begin = Clock::now();
  const std::string json = DirectoryDocument();
  constexpr size_t kChunk = 512 << 10;
  auto ctx = Ctx(admin_token);
  v1::ImportDirectoryResponse imported;
  auto writer = protection.ImportDirectory(ctx.get(), &imported);
  for (size_t at = 0; at < json.size(); at += kChunk) {
    v1::DirectoryChunk chunk;
    chunk.set_hsds_json(json.substr(at, kChunk));
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) Die("directory import: " + s.error_message());
  std::printf("directory: %d services of %d providers imported (%zu KiB) in %.1f s\n",
              imported.services(), imported.organisations(), json.size() >> 10,
              std::chrono::duration<double>(Clock::now() - begin).count());
}

// "A shelter in region R for a woman with a child, speaking L, with free
// places", varied by call.
v1::SearchServicesRequest ShelterSearch(int t, int i) {
  const int n = t * 7919 + i;
  v1::SearchServicesRequest request;
  request.set_kind(v1::SERVICE_KIND_SHELTER);
  request.set_region(DirectoryRegion(n));
  request.set_language(DirectoryLanguage(n / kDirectoryRegions));
  request.mutable_seeker()->set_sex(v1::SEX_FEMALE);
  request.mutable_seeker()->set_children(1);
  request.set_with_free_places(true);
  return request;
}

// Generated statistics records: skewed like real caseloads (a few common
// citizenships and forms, many rare ones), from a fixed seed.
std::vector<v1::CaseStatistics> GenerateStatistics(int n, uint64_t seed) {
  std::vector<v1::CaseStatistics> out;
  out.reserve(n);
  uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  auto next = [&x](uint32_t bound) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<uint32_t>(x % bound);
  };
  static const char* kCountries[] = {"NG", "RO", "VN", "UA", "ER", "BO", "KH", "LA", "AL", "BG",
                                     "CN", "IN", "PH", "TH", "MD", "GH", "SY", "AF", "BR", "PK"};
  for (int i = 0; i < n; ++i) {
    v1::CaseStatistics s;
    s.set_sex(next(10) < 6 ? v1::SEX_FEMALE : (next(20) == 0 ? v1::SEX_OTHER : v1::SEX_MALE));
    const int bands[] = {0, 9, 18, 21, 24, 27, 30, 39, 48};
    s.set_age_band_ctdc(bands[next(9)]);
    s.set_child(s.age_band_ctdc() < 18);
    const uint32_t c = next(100);
    s.add_citizenships(kCountries[c < 40 ? 0 : c < 60 ? 1 : c < 70 ? 2 : 3 + next(17)]);
    s.add_forms_suspected(static_cast<v1::ExploitationForm>(1 + (next(4) == 0 ? next(11) : next(2))));
    s.add_means_of_control(static_cast<v1::MeansOfControl>(1 + next(16)));
    s.set_opened_year(2015 + static_cast<int>(next(10)));
    s.set_opened_month(1 + static_cast<int>(next(12)));
    s.set_region(absl::StrCat("NL-", next(12)));
    s.set_referrer_type(static_cast<v1::OrganisationType>(1 + next(7)));
    s.set_identification_status(static_cast<v1::IdentificationStatus>(1 + next(7)));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as havend does
  double seconds = 3;
  std::vector<int> inflights = {1, 8, 64};
  std::string dir;
  std::string only;
  int statistics_records = 1000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") {
      if (!absl::SimpleAtod(argv[i + 1], &seconds)) Die("bad --seconds");
    } else if (flag == "--inflight") {
      inflights.clear();
      for (absl::string_view part : absl::StrSplit(argv[i + 1], ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(part, &n) || n <= 0) Die("bad --inflight");
        inflights.push_back(n);
      }
    } else if (flag == "--only") {
      only = argv[i + 1];
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--statistics-records") {
      if (!absl::SimpleAtoi(argv[i + 1], &statistics_records) || statistics_records < 0) {
        Die("bad --statistics-records");
      }
    } else {
      Die("usage: haven_bench [--seconds S] [--inflight 1,8,64] [--only WORKLOAD] [--dir DIR] "
          "[--statistics-records N]");
    }
  }
  if (dir.empty()) {
    char tmpl[] = "/tmp/haven-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) Die("cannot make a temporary directory");
    dir = tmpl;
  }
  if (!haven::crypto::Init().ok()) Die("libsodium");

  // The server under test, on disk, over loopback TCP.
  v1::ServerConfig config;
  config.set_data_dir(dir + "/data");
  config.set_master_key_file(dir + "/master.key");
  config.set_audit_signing_key_file(dir + "/audit-signing.key");
  config.set_audit_witness_file(dir + "/audit-witness.log");
  config.set_listen_address("127.0.0.1:0");
  auto finished = haven::server::Finish(config);
  if (!finished.ok()) Die(finished.status().ToString());
  auto boot = haven::server::InitDataDirectory(*finished, "admin");
  if (!boot.ok()) Die(boot.status().ToString());
  auto server = haven::server::HavenServer::Start(*finished, {});
  if (!server.ok()) Die(server.status().ToString());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto admin = v1::AdminService::NewStub(channel);
  auto cases = v1::CaseService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto protection = v1::ProtectionService::NewStub(channel);

  std::string admin_token = LoginAs(*admin, "admin", boot->one_time_password);
  const std::pair<std::string, std::string> ngo = NewTeam(
      *admin, admin_token, "Benchmark NGO", v1::ORGANISATION_TYPE_NGO, "bench", v1::ROLE_CASEWORKER);
  const std::string& org_id = ngo.first;
  const std::string& token = ngo.second;
  if (only.empty() || only == "directory_search") LoadDirectory(*protection, admin_token);

  v1::Subject subject;
  subject.set_given_name("Benchmark");
  subject.set_family_name("Subject");
  subject.set_sex(v1::SEX_FEMALE);
  subject.add_citizenships("NG");
  subject.add_languages("en");
  std::vector<std::string> case_ids;
  for (int i = 0; i < 256; ++i) {
    v1::CreateCaseRequest req;
    *req.mutable_subject() = subject;
    v1::Case c;
    if (!cases->CreateCase(Ctx(token).get(), req, &c).ok()) Die("seed case");
    case_ids.push_back(c.id());
  }

  // The raw baseline: a plain RocksDB beside the server's, synced writes.
  rocksdb::Options raw_options;
  raw_options.create_if_missing = true;
  rocksdb::DB* raw_db = nullptr;
  if (!rocksdb::DB::Open(raw_options, dir + "/raw", &raw_db).ok()) Die("raw rocksdb");
  std::unique_ptr<rocksdb::DB> raw(raw_db);
  const std::string raw_value(400, 'v');  // about the size of a sealed subject + audit entry

  std::printf("haven_bench: %.1f s per cell, data in %s, %u cores\n", seconds, dir.c_str(),
              std::thread::hardware_concurrency());
  std::printf("%-22s %9s %10s %10s %10s %8s\n", "workload", "inflight", "qps", "p50_us",
              "p99_us", "errors");
  auto print = [](const char* name, int n, const Result& r) {
    std::printf("%-22s %9d %10.0f %10.1f %10.1f %8d\n", name, n, r.qps, r.p50_us, r.p99_us,
                r.errors);
    std::fflush(stdout);
  };
  struct Row {
    int inflight;
    Result null_rpc, raw_write, write_rpc, read_rpc, search_rpc, delivery_rpc;
  };
  // Runs one cell unless --only names another workload (baselines always run).
  auto measure = [&](const std::string& name, int n, const std::function<bool(int, int)>& call) {
    const bool baseline = name == "null_rpc" || name == "raw_rocksdb_sync_put";
    if (!only.empty() && only != name && !baseline) return Result();
    Result r = RunClosedLoop(n, seconds, call);
    print(name.c_str(), n, r);
    return r;
  };
  std::vector<Row> rows;
  std::atomic<uint64_t> next_plan_case{0};
  for (int n : inflights) {
    Row row;
    row.inflight = n;
    row.null_rpc = measure("null_rpc", n, [&](int, int) {
      grpc::ClientContext ctx;
      grpc::health::v1::HealthCheckResponse resp;
      return health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp).ok();
    });
    row.raw_write = measure("raw_rocksdb_sync_put", n, [&](int t, int i) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      return raw->Put(wo, absl::StrCat("k", t, "-", i), raw_value).ok();
    });
    row.write_rpc = measure("create_case_rpc", n, [&](int, int) {
      v1::CreateCaseRequest req;
      *req.mutable_subject() = subject;
      v1::Case c;
      return cases->CreateCase(Ctx(token).get(), req, &c).ok();
    });
    row.read_rpc = measure("get_case_rpc", n, [&](int t, int i) {
      v1::GetCaseRequest req;
      req.set_case_id(case_ids[(t * 7919 + i) % case_ids.size()]);
      v1::Case c;
      return cases->GetCase(Ctx(token).get(), req, &c).ok();
    });
    row.search_rpc = measure("directory_search", n, [&](int t, int i) {
      v1::SearchServicesResponse found;
      return protection->SearchServices(Ctx(token).get(), ShelterSearch(t, i), &found).ok() &&
             found.matches_size() > 0;
    });
    // A plan item added and delivered (two audited writes), each on the
    // next of the seeded cases, which take 100 items each.
    row.delivery_rpc = measure("plan_item_add_deliver", n, [&](int, int) {
      const std::string& case_id = case_ids[next_plan_case++ % case_ids.size()];
      v1::AddPlanItemRequest add;
      add.set_case_id(case_id);
      add.mutable_item()->set_kind(v1::SERVICE_KIND_MEDICAL);
      v1::ServicePlan plan;
      if (!protection->AddPlanItem(Ctx(token).get(), add, &plan).ok()) return false;
      v1::RecordServiceDeliveryRequest deliver;
      deliver.set_case_id(case_id);
      deliver.set_item_id(plan.items(plan.items_size() - 1).id());
      return protection->RecordServiceDelivery(Ctx(token).get(), deliver, &plan).ok();
    });
    rows.push_back(row);
  }

  std::printf("\nratios (same run):\n");
  std::printf("%9s %32s %28s %28s %32s\n", "inflight", "create_case / raw_sync_put",
              "get_case / null_rpc", "directory_search / null_rpc",
              "plan_item_add_deliver / null_rpc");
  for (const Row& r : rows) {
    std::printf("%9d %32.2f %28.2f %28.2f %32.2f\n", r.inflight,
                r.raw_write.qps > 0 ? r.write_rpc.qps / r.raw_write.qps : 0,
                r.null_rpc.qps > 0 ? r.read_rpc.qps / r.null_rpc.qps : 0,
                r.null_rpc.qps > 0 ? r.search_rpc.qps / r.null_rpc.qps : 0,
                r.null_rpc.qps > 0 ? r.delivery_rpc.qps / r.null_rpc.qps : 0);
  }
  std::printf("authorization decision: median %.0f ns\n", MedianDecisionNanos());
  std::printf("goals: create_case >= 0.80x raw at 64 in flight; get_case >= 0.50x null; decision < 5000 ns\n");

  if (only.empty() || only == "liaison_watch") {
    // A law-enforcement system watching its event log: from the start of a
    // change (a case closed or reopened) to its event on an open Watch
    // stream, against the change RPC alone, on disk over TCP.
    const std::pair<std::string, std::string> police =
        NewTeam(*admin, admin_token, "Benchmark police", v1::ORGANISATION_TYPE_LAW_ENFORCEMENT,
                "liaison", v1::ROLE_LAW_ENFORCEMENT_LIAISON);
    const std::string& police_id = police.first;
    const std::string& liaison_token = police.second;
    auto liaison = v1::LiaisonService::NewStub(channel);
    const std::string watched = case_ids.back();
    v1::IntroduceCaseRequest introduce;
    introduce.set_case_id(watched);
    introduce.set_agency_organisation_id(police_id);
    introduce.set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
    introduce.mutable_basis_detail()->set_reference("Benchmark Act, art. 1");
    v1::IntroduceCaseResponse introduced;
    if (!liaison->IntroduceCase(Ctx(token).get(), introduce, &introduced).ok()) Die("introduce");
    auto watch_ctx = Ctx(liaison_token);
    v1::WatchRequest after_introduction;
    after_introduction.set_after_sequence(1);
    auto reader = liaison->Watch(watch_ctx.get(), after_introduction);
    constexpr int kChanges = 60;
    std::vector<double> change_ms, event_ms;
    for (int i = 0; i < kChanges; ++i) {
      v1::Case changed;
      const auto begin = Clock::now();
      grpc::Status st;
      if (i % 2 == 0) {
        v1::CloseCaseRequest close;
        close.set_case_id(watched);
        close.set_reason(v1::CLOSURE_REASON_SERVICES_COMPLETED);
        st = cases->CloseCase(Ctx(token).get(), close, &changed);
      } else {
        v1::ReopenCaseRequest reopen;
        reopen.set_case_id(watched);
        st = cases->ReopenCase(Ctx(token).get(), reopen, &changed);
      }
      const auto committed = Clock::now();
      v1::LiaisonEvent event;
      if (!st.ok() || !reader->Read(&event)) Die("liaison watch workload failed");
      const auto delivered = Clock::now();
      change_ms.push_back(std::chrono::duration<double, std::milli>(committed - begin).count());
      event_ms.push_back(std::chrono::duration<double, std::milli>(delivered - begin).count());
    }
    watch_ctx->TryCancel();
    reader->Finish().IgnoreError();
    auto percentile = [](std::vector<double> v, int p) {
      std::sort(v.begin(), v.end());
      return v[std::min(v.size() - 1, v.size() * p / 100)];
    };
    std::printf("\nliaison_watch: %d changes, each to its event on an open Watch stream\n", kChanges);
    std::printf("%-36s p50 %8.2f ms  p99 %8.2f ms\n", "change RPC (close/reopen, baseline)",
                percentile(change_ms, 50), percentile(change_ms, 99));
    std::printf("%-36s p50 %8.2f ms  p99 %8.2f ms\n", "change to event on the stream",
                percentile(event_ms, 50), percentile(event_ms, 99));
  }

  if ((only.empty() || only == "statistics_crosstab") && statistics_records > 0) {
    // Statistics: generated records stored as registered cases would leave
    // them (sealed with the statistics key, random ids), in chunks.
    haven::access::StatisticsShelf& shelf = (*server)->vault().statistics_shelf();
    const auto load_begin = Clock::now();
    for (int done = 0; done < statistics_records;) {
      const int chunk = std::min(50000, statistics_records - done);
      if (!shelf.StoreSynthetic(GenerateStatistics(chunk, static_cast<uint64_t>(done) + 1), 5000)
               .ok()) {
        Die("statistics records");
      }
      done += chunk;
    }
    const double load_s = std::chrono::duration<double>(Clock::now() - load_begin).count();
    v1::CreateUserRequest analyst_req;
    analyst_req.mutable_user()->set_username("analyst");
    analyst_req.mutable_user()->set_display_name("Benchmark analyst");
    analyst_req.mutable_user()->set_organisation_id(org_id);
    analyst_req.mutable_user()->add_roles(v1::ROLE_ANALYST);
    v1::CreateUserResponse analyst;
    if (!admin->CreateUser(Ctx(admin_token).get(), analyst_req, &analyst).ok()) Die("analyst");
    std::string analyst_token = LoginAs(*admin, "analyst", analyst.initial_password());
    auto statistics = v1::StatisticsService::NewStub(channel);
    auto median_ms = [](int runs, const std::function<bool()>& call) {
      std::vector<double> ms;
      for (int i = 0; i < runs; ++i) {
        const auto begin = Clock::now();
        if (!call()) Die("statistics workload failed");
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
      }
      std::sort(ms.begin(), ms.end());
      return ms[ms.size() / 2];
    };
    uint64_t scanned = 0;
    const double raw_scan_ms = median_ms(5, [&] {
      auto n = shelf.CountKeys();
      scanned = n.ok() ? *n : 0;
      return n.ok();
    });
    int64_t cells = 0, suppressed = 0;
    const double crosstab_ms = median_ms(5, [&] {
      v1::GetCountsRequest req;
      for (const char* d : {"sex", "form", "citizenship"}) req.add_group_by(d);
      v1::GetCountsResponse out;
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", absl::StrCat("Bearer ", analyst_token));
      ctx.AddMetadata("x-haven-purpose", "statistics");
      grpc::Status st = statistics->GetCounts(&ctx, req, &out);
      cells = out.rows_size();
      suppressed = out.suppressed_cells();
      return st.ok();
    });
    // Where the time goes, in-process: the shelf's read (scan, open, parse)
    // with two threads, the same with counting, and the protection alone.
    haven::access::RequestContext analyst_ctx;
    analyst_ctx.principal.id = "bench-analyst";
    analyst_ctx.principal.roles = {v1::ROLE_ANALYST};
    analyst_ctx.purpose = "statistics";
    const std::vector<haven::statistics::Dimension> dims = {
        haven::statistics::Dimension::kSex, haven::statistics::Dimension::kForm,
        haven::statistics::Dimension::kCitizenship};
    const double open_ms = median_ms(3, [&] {
      return shelf.ForEach(analyst_ctx, "statistics.bench", "open", 2,
                           [](int, const v1::CaseStatistics&) {})
          .ok();
    });
    haven::statistics::Interior interior;
    const double count_ms = median_ms(3, [&] {
      std::vector<haven::statistics::Counter> counters(2, haven::statistics::Counter(dims));
      bool ok = shelf.ForEach(analyst_ctx, "statistics.bench", "count", 2,
                              [&](int shard, const v1::CaseStatistics& r) {
                                counters[shard].Add(r);
                              })
                    .ok();
      counters[0].Merge(counters[1]);
      interior = counters[0].Cells();
      return ok;
    });
    // Single thread, for the breakdown.
    haven::storage::Store& store = (*server)->vault().store();
    auto keyring_for_bench = haven::crypto::KeyRing::Load(
        haven::crypto::FileKeySource(dir + "/master.key", dir + "/audit-signing.key", ""));
    if (!keyring_for_bench.ok()) Die("key ring");
    const haven::crypto::KeyRing& keyring = **keyring_for_bench;
    auto scan_with = [&](bool open, bool parse) {
      std::string plain, aad;
      v1::CaseStatistics record;
      int64_t n = 0;
      bool ok = store.Scan(haven::storage::Cf::kCaseStatistics, "", "",
                           [&](absl::string_view k, absl::string_view v) {
                             if (open) {
                               aad.assign("statistics:");
                               aad.append(k.data(), k.size());
                               if (!keyring.OpenStatisticsInto(v, aad, &plain).ok()) return false;
                               if (parse && !record.ParseFromString(plain)) return false;
                             }
                             ++n;
                             return true;
                           }).ok();
      return ok && n > 0;
    };
    const double st_open_ms = median_ms(3, [&] { return scan_with(true, false); });
    const double st_parse_ms = median_ms(3, [&] { return scan_with(true, true); });
    std::printf("  1 thread: scan+open %.1f ms, scan+open+parse %.1f ms\n", st_open_ms, st_parse_ms);
    const double protect_ms = median_ms(3, [&] {
      return !haven::statistics::Protect(dims, interior, 10).cells.empty();
    });
    const double null_ms = rows.empty() || rows[0].null_rpc.qps <= 0
                               ? 0
                               : 1000.0 * rows[0].inflight / rows[0].null_rpc.qps;
    std::printf("\nstatistics: %llu records (loaded in %.1f s), %u cores\n",
                static_cast<unsigned long long>(scanned), load_s,
                std::thread::hardware_concurrency());
    std::printf("%-36s %10.1f ms\n", "raw_rocksdb_read_scan (baseline)", raw_scan_ms);
    std::printf("%-36s %10.1f ms  (%lld cells, %lld suppressed)\n",
                "statistics_crosstab sex x form x citizenship", crosstab_ms,
                static_cast<long long>(cells), static_cast<long long>(suppressed));
    std::printf("%-36s %10.1f ms\n", "  in-process: scan+open+parse", open_ms);
    std::printf("%-36s %10.1f ms\n", "  in-process: scan+open+parse+count", count_ms);
    std::printf("%-36s %10.1f ms\n", "  in-process: protect (suppression)", protect_ms);
    std::printf("ratio statistics_crosstab / raw_read_scan: %.2f\n",
                raw_scan_ms > 0 ? crosstab_ms / raw_scan_ms : 0);
    if (null_ms > 0) {
      std::printf("ratio statistics_crosstab / null_rpc: %.0f\n", crosstab_ms / null_ms);
    }
    std::printf("goal: statistics_crosstab < 1000 ms over 1,000,000 records on 2 cores\n");
  }

  raw.reset();
  (*server)->Shutdown(absl::Now() + absl::Seconds(5));
  server->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
