// haven-liaison: an example law-enforcement system speaking LiaisonService over mutual TLS.
//
//   haven-liaison [connection] refer --subject-file F [--setting LABOUR_INSPECTION]
//                 [--indicator CODE]... [--form FORCED_LABOUR]... [--observations-file F]
//   haven-liaison [connection] watch [--after N] [--state-file F] [--count N]
//   haven-liaison [connection] case --pseudonym P
//   haven-liaison [connection] disclose --pseudonym P --basis consent|judicial-order
//                 [--reference R --court C] [--class identifying]... [--days N]
//   haven-liaison [connection] ask (--pseudonym P | --name-file F)
//
// A person's details never go on the command line, where `ps` and the shell's
// history would show them: --subject-file holds a haven.v1.Subject and
// --name-file a haven.v1.NamedPerson, in protobuf text format, e.g.
//   given_name: "Amina" family_name: "Okafor" sex: SEX_FEMALE citizenships: "NG"
// and --observations-file the responder's free text; "-" reads standard input.
//
// connection: --address host:port (the mTLS listener), --cert F, --key F (this
// system's client certificate and key), --ca F (the CA of the server's
// certificate), [--server-name localhost]. Output is one "key=value ..." line
// per result, for scripts.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "haven/v1/liaison.grpc.pb.h"

namespace {

namespace v1 = haven::v1;

using Flags = std::multimap<std::string, std::string>;

// The whole of file `path`; standard input for "-".
std::string ReadFile(const std::string& path) {
  std::stringstream s;
  if (path == "-") {
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "haven-liaison: cannot read " << path << "\n";
    std::exit(2);
  }
  s << in.rdbuf();
  return s.str();
}

// Where a text-format file first fails to parse; the text itself (a
// person's details) is never repeated.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string&) override {
    if (where_.empty()) where_ = absl::StrCat(line + 1, ":", column + 1);
  }
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// A message in protobuf text format from file `path` ("-": standard input).
template <typename Message>
Message ReadText(const std::string& path) {
  Message message;
  FirstError error;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&error);
  if (!parser.ParseFromString(ReadFile(path), &message)) {
    std::cerr << "haven-liaison: " << path << ":" << error.where() << ": expected a "
              << Message::descriptor()->full_name() << " in protobuf text format\n";
    std::exit(2);
  }
  return message;
}

std::string Flag(const Flags& flags, const std::string& name, const std::string& fallback = "") {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

std::vector<std::string> All(const Flags& flags, const std::string& name) {
  std::vector<std::string> out;
  auto [begin, end] = flags.equal_range(name);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

std::string Required(const Flags& flags, const std::string& name) {
  std::string value = Flag(flags, name);
  if (value.empty()) {
    std::cerr << "haven-liaison: --" << name << " is required\n";
    std::exit(2);
  }
  return value;
}

int Fail(const grpc::Status& status) {
  std::cerr << "haven-liaison: " << status.error_code() << " " << status.error_message() << "\n";
  return 1;
}

// An enum value from its short name: "forced_labour" -> EXPLOITATION_FORM_FORCED_LABOUR.
template <typename Parse, typename E>
E EnumFlag(const std::string& text, const std::string& prefix, Parse parse, const char* what) {
  E value{};
  std::string name = absl::StrCat(prefix, absl::AsciiStrToUpper(text));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  if (!parse(name, &value)) {
    std::cerr << "haven-liaison: unknown " << what << " " << text << "\n";
    std::exit(2);
  }
  return value;
}

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(30)) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("x-haven-purpose", "investigation");
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return ctx;
}

int Refer(v1::LiaisonService::Stub& stub, const Flags& flags) {
  v1::ReferRequest req;
  *req.mutable_subject() = ReadText<v1::Subject>(Required(flags, "subject-file"));
  v1::LiaisonReport* report = req.mutable_report();
  report->set_setting(EnumFlag<decltype(&v1::ScreeningSetting_Parse), v1::ScreeningSetting>(
      Flag(flags, "setting", "police"), "SCREENING_SETTING_", &v1::ScreeningSetting_Parse,
      "setting"));
  for (const std::string& code : All(flags, "indicator")) report->add_indicators_observed(code);
  for (const std::string& form : All(flags, "form")) {
    report->add_forms_suspected(EnumFlag<decltype(&v1::ExploitationForm_Parse), v1::ExploitationForm>(
        form, "EXPLOITATION_FORM_", &v1::ExploitationForm_Parse, "form"));
  }
  if (!Flag(flags, "observations-file").empty()) {
    report->set_observations(ReadFile(Flag(flags, "observations-file")));
  }
  report->mutable_met_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  v1::ReferResponse out;
  grpc::Status s = stub.Refer(Context().get(), req, &out);
  if (!s.ok()) return Fail(s);
  std::cout << "pseudonym=" << out.pseudonym() << "\n";
  return 0;
}

uint64_t ReadPosition(const std::string& state_file, uint64_t fallback) {
  if (state_file.empty()) return fallback;
  std::ifstream in(state_file);
  uint64_t position = 0;
  if (in >> position) return position;
  return fallback;
}

// The position is saved after each event is printed, so that a restart of
// this program (or of havend) resumes exactly after the last one handled.
void SavePosition(const std::string& state_file, uint64_t position) {
  if (state_file.empty()) return;
  const std::string tmp = state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << position << "\n";
  }
  std::rename(tmp.c_str(), state_file.c_str());
}

int Watch(v1::LiaisonService::Stub& stub, const Flags& flags) {
  const std::string state_file = Flag(flags, "state-file");
  uint64_t after = 0;
  if (!absl::SimpleAtoi(Flag(flags, "after", "0"), &after)) after = 0;
  after = ReadPosition(state_file, after);
  int64_t count = -1;  // forever
  if (!Flag(flags, "count").empty() && !absl::SimpleAtoi(Flag(flags, "count"), &count)) {
    std::cerr << "haven-liaison: --count must be a number\n";
    return 2;
  }
  int64_t seen = 0;
  absl::Duration backoff = absl::Milliseconds(200);
  while (count < 0 || seen < count) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-haven-purpose", "investigation");
    // Wait for the connection (havend may be restarting) rather than fail at once.
    ctx.set_wait_for_ready(true);
    v1::WatchRequest req;
    req.set_after_sequence(after);
    std::unique_ptr<grpc::ClientReader<v1::LiaisonEvent>> reader = stub.Watch(&ctx, req);
    v1::LiaisonEvent event;
    while ((count < 0 || seen < count) && reader->Read(&event)) {
      std::cout << "sequence=" << event.sequence() << " kind=" << v1::LiaisonEventKind_Name(event.kind())
                << " pseudonym=" << event.pseudonym() << " time=" << event.time().seconds();
      if (event.identification_status() != v1::IDENTIFICATION_STATUS_UNSPECIFIED) {
        std::cout << " identification=" << v1::IdentificationStatus_Name(event.identification_status());
      }
      std::cout << std::endl;
      after = event.sequence();
      SavePosition(state_file, after);
      ++seen;
      backoff = absl::Milliseconds(200);
    }
    if (count >= 0 && seen >= count) {
      ctx.TryCancel();
      reader->Finish().IgnoreError();
      break;
    }
    grpc::Status s = reader->Finish();
    // Refused, or told that events after `after` are past their retention:
    // reconnecting would not help, and skipping ahead is the operator's call.
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
        s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        s.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
      return Fail(s);
    }
    // The server went away (a restart): reconnect and resume after `after`.
    std::cerr << "haven-liaison: watch interrupted (" << s.error_code() << "), resuming after "
              << after << "\n";
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(backoff));
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  return 0;
}

int ShowCase(v1::LiaisonService::Stub& stub, const Flags& flags) {
  v1::GetLiaisonCaseRequest req;
  req.set_pseudonym(Required(flags, "pseudonym"));
  v1::LiaisonCase out;
  grpc::Status s = stub.GetCase(Context().get(), req, &out);
  if (!s.ok()) return Fail(s);
  std::cout << "pseudonym=" << out.pseudonym() << " status=" << v1::CaseStatus_Name(out.status())
            << " identification=" << v1::IdentificationStatus_Name(out.identification_status())
            << " given_name=" << out.subject().given_name()
            << " family_name=" << out.subject().family_name() << "\n";
  for (const v1::Disclosure& d : out.disclosures()) {
    std::cout << "disclosure=" << d.id() << " state=" << v1::DisclosureState_Name(d.state())
              << " basis=" << v1::LawfulBasis_Name(d.lawful_basis()) << "\n";
  }
  return 0;
}

int Disclose(v1::LiaisonService::Stub& stub, const Flags& flags) {
  v1::RequestDisclosureRequest req;
  req.set_pseudonym(Required(flags, "pseudonym"));
  const std::string basis = Required(flags, "basis");
  if (basis == "consent") {
    req.set_lawful_basis(v1::LAWFUL_BASIS_CONSENT);
  } else if (basis == "judicial-order") {
    req.set_lawful_basis(v1::LAWFUL_BASIS_JUDICIAL_ORDER);
    req.mutable_basis_detail()->set_reference(Flag(flags, "reference"));
    req.mutable_basis_detail()->set_court(Flag(flags, "court"));
  } else {
    std::cerr << "haven-liaison: --basis is consent or judicial-order\n";
    return 2;
  }
  std::vector<std::string> classes = All(flags, "class");
  if (classes.empty()) classes.push_back("identifying");
  for (const std::string& c : classes) {
    req.add_classes(EnumFlag<decltype(&v1::ConfidentialityClass_Parse), v1::ConfidentialityClass>(
        c, "CONFIDENTIALITY_", &v1::ConfidentialityClass_Parse, "class"));
  }
  int days = 0;
  if (!Flag(flags, "days").empty() && absl::SimpleAtoi(Flag(flags, "days"), &days) && days > 0) {
    req.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24) * days));
  }
  v1::Disclosure out;
  grpc::Status s = stub.RequestDisclosure(Context().get(), req, &out);
  if (!s.ok()) return Fail(s);
  std::cout << "disclosure=" << out.id() << " state=" << v1::DisclosureState_Name(out.state())
            << " expire_time=" << out.expire_time().seconds() << "\n";
  return 0;
}

int Ask(v1::LiaisonService::Stub& stub, const Flags& flags) {
  v1::AskNonPunishmentRequest req;
  if (!Flag(flags, "pseudonym").empty()) {
    req.set_pseudonym(Flag(flags, "pseudonym"));
  } else {
    *req.mutable_name() = ReadText<v1::NamedPerson>(Required(flags, "name-file"));
  }
  v1::AskNonPunishmentResponse out;
  grpc::Status s = stub.AskNonPunishment(Context().get(), req, &out);
  if (!s.ok()) return Fail(s);
  std::cout << "presumed_or_confirmed_victim=" << (out.presumed_or_confirmed_victim() ? "yes" : "no")
            << "\n";
  return 0;
}

int Usage() {
  std::cerr << "usage: haven-liaison --address HOST:PORT --cert F --key F --ca F "
               "refer|watch|case|disclose|ask [flags]\n"
               "  refer --subject-file F [--setting S] [--indicator CODE]... [--form F]... "
               "[--observations-file F]\n"
               "  ask (--pseudonym P | --name-file F)\n"
               "A person's details are read from files (\"-\": standard input) in protobuf "
               "text format, never taken on the command line.\n(see the comment at the top of "
               "clients/liaison/liaison_client.cc)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command;
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2);
      std::string value;
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      }
      flags.emplace(name, value);
    } else if (command.empty()) {
      command = arg;
    } else {
      return Usage();
    }
  }
  if (command.empty()) return Usage();
  for (const char* name : {"given-name", "family-name", "sex", "citizenship", "observations"}) {
    if (flags.count(name) > 0) {
      std::cerr << "haven-liaison: --" << name
                << " is not taken: a person's details on the command line show in ps and the "
                   "shell's history; give them in --subject-file, --name-file or "
                   "--observations-file\n";
      return 2;
    }
  }
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFile(Required(flags, "ca"));
  tls.pem_cert_chain = ReadFile(Required(flags, "cert"));
  tls.pem_private_key = ReadFile(Required(flags, "key"));
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(Flag(flags, "server-name", "localhost"));
  // After havend restarts, try again soon: gRPC's default backoff grows to
  // two minutes, and a watcher should resume within seconds.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  auto channel = grpc::CreateCustomChannel(Required(flags, "address"), grpc::SslCredentials(tls), args);
  auto stub = v1::LiaisonService::NewStub(channel);
  if (command == "refer") return Refer(*stub, flags);
  if (command == "watch") return Watch(*stub, flags);
  if (command == "case") return ShowCase(*stub, flags);
  if (command == "disclose") return Disclose(*stub, flags);
  if (command == "ask") return Ask(*stub, flags);
  return Usage();
}
