// havenctl: flag parsing, connection options and the command functions.
#ifndef HAVEN_CLIENTS_HAVENCTL_COMMANDS_H_
#define HAVEN_CLIENTS_HAVENCTL_COMMANDS_H_

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace havenctl {

// A mistake on the command line: main prints the usage text and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Anything else that went wrong (a failed call, an unreadable file): exit 1.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One accepted option: `--name VALUE` (or `--name=VALUE`) when takes_value,
// else a bare switch.
struct FlagSpec {
  std::string_view name;
  bool takes_value;
  bool repeated;
};

// The options and positional arguments given to one command.
class Flags {
 public:
  bool Has(std::string_view name) const;
  // The value of a single-valued flag, or `fallback` when absent.
  std::string Get(std::string_view name, std::string_view fallback = "") const;
  // Throws UsageError when the flag is absent.
  std::string Required(std::string_view name) const;
  // Every value of a repeated flag, in order (empty when absent).
  const std::vector<std::string>& All(std::string_view name) const;

  std::vector<std::string> args;  // positional arguments
  std::map<std::string, std::vector<std::string>, std::less<>> values;
};

// Parses argv[begin, end) against `specs`. When stop_at_positional, parsing
// stops at the first positional argument and *next is its index; otherwise
// positionals are collected into Flags::args and "--" ends the options.
Flags ParseFlags(const std::vector<std::string>& argv, size_t begin,
                 const std::vector<FlagSpec>& specs, bool stop_at_positional,
                 size_t* next);

// How to reach the server; see `havenctl help`.
struct GlobalOptions {
  std::string server;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string purpose;  // empty: none declared
  int64_t timeout_ms = 10000;
};

// The options every command accepts.
const std::vector<FlagSpec>& GlobalFlagSpecs();
// Copies the global options present in `flags` into `options` and checks
// them. Names listed in `shadowed` belong to the command and are skipped.
void ApplyGlobalFlags(const Flags& flags, const std::vector<FlagSpec>& shadowed,
                      GlobalOptions* options);
// Throws UsageError for inconsistent options (--cert without --key, ...).
void CheckGlobalOptions(const GlobalOptions& options);

// "ngo, law-enforcement, ..." lines for the help text.
std::string ValueHelp();

using CommandFn = int (*)(const GlobalOptions&, const Flags&);

int Login(const GlobalOptions& options, const Flags& flags);
int Passwd(const GlobalOptions& options, const Flags& flags);
int Logout(const GlobalOptions& options, const Flags& flags);
int WhoAmI(const GlobalOptions& options, const Flags& flags);

int OrgCreate(const GlobalOptions& options, const Flags& flags);
int OrgList(const GlobalOptions& options, const Flags& flags);

int UserCreate(const GlobalOptions& options, const Flags& flags);
int UserList(const GlobalOptions& options, const Flags& flags);
int UserDisable(const GlobalOptions& options, const Flags& flags);
int UserEnable(const GlobalOptions& options, const Flags& flags);
int UserRoles(const GlobalOptions& options, const Flags& flags);
int UserResetPassword(const GlobalOptions& options, const Flags& flags);
int UserRevokeSessions(const GlobalOptions& options, const Flags& flags);

int SaCreate(const GlobalOptions& options, const Flags& flags);
int SaList(const GlobalOptions& options, const Flags& flags);
int SaDisable(const GlobalOptions& options, const Flags& flags);
int SaEnable(const GlobalOptions& options, const Flags& flags);
int SaRotate(const GlobalOptions& options, const Flags& flags);

int CaseCreate(const GlobalOptions& options, const Flags& flags);
int CaseGet(const GlobalOptions& options, const Flags& flags);
int CaseUpdate(const GlobalOptions& options, const Flags& flags);
int CaseErase(const GlobalOptions& options, const Flags& flags);
int CaseGrant(const GlobalOptions& options, const Flags& flags);
int CaseGrants(const GlobalOptions& options, const Flags& flags);
int CaseApproveGrant(const GlobalOptions& options, const Flags& flags);
int CaseRevokeGrant(const GlobalOptions& options, const Flags& flags);

int CaseTimeline(const GlobalOptions& options, const Flags& flags);
int CaseSearch(const GlobalOptions& options, const Flags& flags);
int CaseAssign(const GlobalOptions& options, const Flags& flags);
int CaseConsent(const GlobalOptions& options, const Flags& flags);
int CaseClose(const GlobalOptions& options, const Flags& flags);
int CaseRequestErasure(const GlobalOptions& options, const Flags& flags);
int Alerts(const GlobalOptions& options, const Flags& flags);
int AlertResolve(const GlobalOptions& options, const Flags& flags);

int IdentSets(const GlobalOptions& options, const Flags& flags);
int IdentGet(const GlobalOptions& options, const Flags& flags);
int IdentRefer(const GlobalOptions& options, const Flags& flags);
int IdentDecide(const GlobalOptions& options, const Flags& flags);
int IdentExtendReflection(const GlobalOptions& options, const Flags& flags);
int IdentDue(const GlobalOptions& options, const Flags& flags);

int ReferralCreate(const GlobalOptions& options, const Flags& flags);
int ReferralSend(const GlobalOptions& options, const Flags& flags);
int ReferralAck(const GlobalOptions& options, const Flags& flags);
int ReferralAccept(const GlobalOptions& options, const Flags& flags);
int ReferralDecline(const GlobalOptions& options, const Flags& flags);
int ReferralComplete(const GlobalOptions& options, const Flags& flags);
int ReferralCancel(const GlobalOptions& options, const Flags& flags);
int ReferralInbox(const GlobalOptions& options, const Flags& flags);
int ReferralOutbox(const GlobalOptions& options, const Flags& flags);
int ReferralFigures(const GlobalOptions& options, const Flags& flags);
int ReferralPartners(const GlobalOptions& options, const Flags& flags);

int HotlineLog(const GlobalOptions& options, const Flags& flags);
int HotlineCallbacks(const GlobalOptions& options, const Flags& flags);
int HotlineDashboard(const GlobalOptions& options, const Flags& flags);

int DirectorySearch(const GlobalOptions& options, const Flags& flags);
int DirectoryGet(const GlobalOptions& options, const Flags& flags);
int DirectoryPutService(const GlobalOptions& options, const Flags& flags);
int DirectoryPutLocation(const GlobalOptions& options, const Flags& flags);
int DirectoryPutProfile(const GlobalOptions& options, const Flags& flags);
int DirectoryFreePlaces(const GlobalOptions& options, const Flags& flags);
int DirectoryImport(const GlobalOptions& options, const Flags& flags);
int DirectoryExport(const GlobalOptions& options, const Flags& flags);

int AuditQuery(const GlobalOptions& options, const Flags& flags);
int AuditVerify(const GlobalOptions& options, const Flags& flags);

// Service plans and residence permits.
int PlanGet(const GlobalOptions& options, const Flags& flags);
int PlanAdd(const GlobalOptions& options, const Flags& flags);
int PlanApprove(const GlobalOptions& options, const Flags& flags);
int PlanEnd(const GlobalOptions& options, const Flags& flags);
int PlanRefer(const GlobalOptions& options, const Flags& flags);
int PlanDeliver(const GlobalOptions& options, const Flags& flags);
int PlanOverdue(const GlobalOptions& options, const Flags& flags);
int PermitApply(const GlobalOptions& options, const Flags& flags);
int PermitDecide(const GlobalOptions& options, const Flags& flags);
int PermitList(const GlobalOptions& options, const Flags& flags);
int PermitExpiring(const GlobalOptions& options, const Flags& flags);
int ReturnCreate(const GlobalOptions& options, const Flags& flags);
int ReturnShow(const GlobalOptions& options, const Flags& flags);
int ReturnList(const GlobalOptions& options, const Flags& flags);
int ReturnApprove(const GlobalOptions& options, const Flags& flags);
int ReturnClose(const GlobalOptions& options, const Flags& flags);
// The steps between: what people write (risks, documents, the journey, a
// follow-up) comes from a file in protobuf text format, never from argv.
int ReturnAssess(const GlobalOptions& options, const Flags& flags);
int ReturnRefer(const GlobalOptions& options, const Flags& flags);
int ReturnTakeOn(const GlobalOptions& options, const Flags& flags);
int ReturnDocuments(const GlobalOptions& options, const Flags& flags);
int ReturnSchedule(const GlobalOptions& options, const Flags& flags);
int ReturnDepart(const GlobalOptions& options, const Flags& flags);
int ReturnArrive(const GlobalOptions& options, const Flags& flags);
int ReturnFollowUp(const GlobalOptions& options, const Flags& flags);
int ReturnReceived(const GlobalOptions& options, const Flags& flags);
int ReturnReceivedFollowUp(const GlobalOptions& options, const Flags& flags);
int ReturnSuspend(const GlobalOptions& options, const Flags& flags);
int ReturnResume(const GlobalOptions& options, const Flags& flags);
int ReturnCancel(const GlobalOptions& options, const Flags& flags);
int ReturnDue(const GlobalOptions& options, const Flags& flags);

// Around the proceedings: the reflection period, compensation claims,
// protective measures and interpreters. Records come from a file in
// protobuf text format; with an id in it, --fields names what changes.
int ProtectReflection(const GlobalOptions& options, const Flags& flags);
int ProtectClaim(const GlobalOptions& options, const Flags& flags);
int ProtectClaims(const GlobalOptions& options, const Flags& flags);
int ProtectMeasure(const GlobalOptions& options, const Flags& flags);
int ProtectMeasures(const GlobalOptions& options, const Flags& flags);
int ProtectInterpreter(const GlobalOptions& options, const Flags& flags);
int ProtectInterpretation(const GlobalOptions& options, const Flags& flags);
int ProtectLanguageNeeds(const GlobalOptions& options, const Flags& flags);

// The exploitation profile and statistics.
int ProfileSet(const GlobalOptions& options, const Flags& flags);
int ProfileShow(const GlobalOptions& options, const Flags& flags);
int StatsCounts(const GlobalOptions& options, const Flags& flags);
int StatsSeries(const GlobalOptions& options, const Flags& flags);
int StatsReport(const GlobalOptions& options, const Flags& flags);
int StatsExport(const GlobalOptions& options, const Flags& flags);

}  // namespace havenctl

#endif  // HAVEN_CLIENTS_HAVENCTL_COMMANDS_H_
