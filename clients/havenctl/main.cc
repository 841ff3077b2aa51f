// havenctl: command-line client of the Haven server; command table and dispatch.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"

namespace havenctl {
namespace {

struct Command {
  std::string_view name;  // one or two words: "whoami", "org create"
  std::string_view usage;
  std::string_view summary;
  std::vector<FlagSpec> flags;
  size_t nargs;  // positional arguments after the name
  CommandFn run;
};

// Options of `case create` and `case update`.
std::vector<FlagSpec> SubjectFlags(bool update) {
  std::vector<FlagSpec> flags = {
      {"given-name", true, false},    {"family-name", true, false},
      {"other-name", true, true},     {"sex", true, false},
      {"dob", true, false},           {"estimated-age", true, false},
      {"age-disputed", true, false},  {"citizenship", true, true},
      {"language", true, true},
  };
  if (update) {
    flags.push_back({"clear", true, true});
    flags.push_back({"expected-version", true, false});
  }
  return flags;
}

// `flags` and the options that give a disclosure's lawful basis and its facts.
std::vector<FlagSpec> WithBasisFlags(std::vector<FlagSpec> flags) {
  for (std::string_view name : {"basis", "order-ref", "court", "basis-reason"}) {
    flags.push_back({name, true, false});
  }
  return flags;
}

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"login", "login USERNAME [--print-token]",
       "Log in (password from stdin) and store the session token.",
       {{"print-token", false, false}}, 1, Login},
      {"passwd", "passwd", "Change your password (current and new one from stdin).",
       {}, 0, Passwd},
      {"logout", "logout", "End the session and forget the stored token.", {}, 0, Logout},
      {"whoami", "whoami", "Show who the server thinks you are.", {}, 0, WhoAmI},

      {"org create", "org create --name NAME --type TYPE --country CC",
       "Create an organisation.",
       {{"name", true, false}, {"type", true, false}, {"country", true, false}}, 0,
       OrgCreate},
      {"org list", "org list", "List organisations.", {}, 0, OrgList},

      {"user create",
       "user create --org ORG_ID --username USERNAME --display-name NAME --role ROLE...",
       "Create a user; prints the one-time password.",
       {{"org", true, false},
        {"username", true, false},
        {"display-name", true, false},
        {"role", true, true}},
       0, UserCreate},
      {"user list", "user list [--org ORG_ID]",
       "List the users of an organisation (default: your own).",
       {{"org", true, false}}, 0, UserList},
      {"user disable", "user disable USER_ID", "Disable a user.", {}, 1, UserDisable},
      {"user enable", "user enable USER_ID", "Enable a user again.", {}, 1, UserEnable},
      {"user roles", "user roles USER_ID --role ROLE...", "Replace a user's roles.",
       {{"role", true, true}}, 1, UserRoles},
      {"user reset-password", "user reset-password USER_ID",
       "Give a user a new one-time password.", {}, 1, UserResetPassword},
      {"user revoke-sessions", "user revoke-sessions USER_ID",
       "End all sessions of a user.", {}, 1, UserRevokeSessions},

      {"sa create", "sa create --org ORG_ID --name NAME --role ROLE... --cert PEMFILE",
       "Create a service account for the client certificate in PEMFILE.",
       {{"org", true, false}, {"name", true, false}, {"role", true, true},
        {"cert", true, false}},
       0, SaCreate},
      {"sa list", "sa list [--org ORG_ID]", "List service accounts.",
       {{"org", true, false}}, 0, SaList},
      {"sa disable", "sa disable SERVICE_ACCOUNT_ID",
       "Disable a service account: its certificate authenticates no call.", {}, 1, SaDisable},
      {"sa enable", "sa enable SERVICE_ACCOUNT_ID", "Enable a service account again.", {}, 1,
       SaEnable},
      {"sa rotate", "sa rotate SERVICE_ACCOUNT_ID --cert PEMFILE",
       "Give a service account the certificate in PEMFILE and revoke its old one.",
       {{"cert", true, false}}, 1, SaRotate},

      {"case create", "case create --given-name G --family-name F [SUBJECT OPTIONS]",
       "Open a case owned by your organisation.", SubjectFlags(false), 0, CaseCreate},
      {"case get", "case get CASE_ID", "Show a case (redacted to what you may see).",
       {}, 1, CaseGet},
      {"case update",
       "case update CASE_ID [SUBJECT OPTIONS] [--clear FIELD...] [--expected-version N]",
       "Change the subject fields given (--clear other-name empties a field).",
       SubjectFlags(true), 1, CaseUpdate},
      {"case erase", "case erase CASE_ID [--yes]",
       "Crypto-shred a case; asks for confirmation on a terminal unless --yes.",
       {{"yes", false, false}}, 1, CaseErase},
      {"case grant",
       "case grant CASE_ID (--org ORG_ID | --user USER_ID) --purpose P --class CLASS... "
       "--action ACTION... --expires TIME --basis BASIS [--order-ref REF] [--court COURT] "
       "[--basis-reason TEXT]",
       "Give an organisation or user scoped, expiring access to a case under a lawful basis "
       "(a judicial order or an emergency waits for another supervisor's approval).",
       WithBasisFlags({{"org", true, false},
        {"user", true, false},
        {"purpose", true, false},
        {"class", true, true},
        {"action", true, true},
        {"expires", true, false}}),
       1, CaseGrant},
      {"case approve-grant", "case approve-grant CASE_ID GRANT_ID",
       "Approve a grant asked for under a judicial order or an emergency (a supervisor of "
       "the owning organisation other than the one who asked).",
       {}, 2, CaseApproveGrant},
      {"case grants", "case grants CASE_ID", "List the grants of a case.", {}, 1,
       CaseGrants},
      {"case revoke-grant", "case revoke-grant CASE_ID GRANT_ID", "Revoke a grant.", {},
       2, CaseRevokeGrant},

      {"case timeline", "case timeline CASE_ID", "Show what happened to a case, oldest first.",
       {}, 1, CaseTimeline},
      {"case search",
       "case search [--name N] [--status STATUS] [--assignee USER_ID] [--limit N]",
       "Find cases you may read (default limit 100).",
       {{"name", true, false},
        {"status", true, false},
        {"assignee", true, false},
        {"limit", true, false}},
       0, CaseSearch},
      {"case assign", "case assign CASE_ID --assignee USER_ID... [--supervisor USER_ID]",
       "Hand a case over: replaces its assignees (and supervisor).",
       {{"assignee", true, true}, {"supervisor", true, false}}, 1, CaseAssign},
      {"case consent",
       "case consent CASE_ID --purpose CONSENT (--given | --refused) --language TAG "
       "[--interpreter] [--note TEXT]",
       "Record the subject's consent to, or refusal of, one purpose.",
       {{"purpose", true, false},
        {"given", false, false},
        {"refused", false, false},
        {"language", true, false},
        {"interpreter", false, false},
        {"note", true, false}},
       1, CaseConsent},
      {"case close", "case close CASE_ID --reason CLOSURE [--note TEXT]", "Close a case.",
       {{"reason", true, false}, {"note", true, false}}, 1, CaseClose},
      {"case request-erasure", "case request-erasure CASE_ID --reason TEXT",
       "Ask for a case to be erased; another supervisor approves (case erase).",
       {{"reason", true, false}}, 1, CaseRequestErasure},
      {"alerts", "alerts [--resolved]",
       "List the open alerts addressed to you or your organisation (or, with --resolved, "
       "those resolved or dismissed).",
       {{"resolved", false, false}}, 0, Alerts},
      {"alert resolve",
       "alert resolve ALERT_ID --how acted-on|not-the-same-person|already-handled|not-needed",
       "Take an alert off the open list, saying why.", {{"how", true, false}}, 1,
       AlertResolve},

      {"ident sets", "ident sets", "List the indicator sets (newest versions).", {}, 0,
       IdentSets},
      {"ident get", "ident get CASE_ID", "Show the identification side of a case.", {}, 1,
       IdentGet},
      {"ident refer", "ident refer CASE_ID --authority ORG_ID [--note TEXT]",
       "Refer a potential victim to the competent authority.",
       {{"authority", true, false}, {"note", true, false}}, 1, IdentRefer},
      {"ident decide",
       "ident decide rg|cg CASE_ID (--positive | --negative) --reasons TEXT "
       "[--waive-reflection --waiver-reasons TEXT]",
       "Decide on reasonable (rg) or conclusive (cg) grounds; waiving is for cg only.",
       {{"positive", false, false},
        {"negative", false, false},
        {"reasons", true, false},
        {"waive-reflection", false, false},
        {"waiver-reasons", true, false}},
       2, IdentDecide},
      {"ident extend-reflection", "ident extend-reflection CASE_ID --until TIME --reasons TEXT",
       "Extend a running reflection and recovery period to a later end (decision makers).",
       {{"until", true, false}, {"reasons", true, false}}, 1, IdentExtendReflection},
      {"ident due", "ident due [--before TIME]",
       "List decisions due (default: within seven days).", {{"before", true, false}}, 0,
       IdentDue},

      {"referral create",
       "referral create CASE_ID (--to ORG_ID | --partner ID) --purpose REFERRAL "
       "--urgency URGENCY --deadline TIME --scope CLASS... --basis BASIS "
       "[--order-ref REF] [--court COURT] [--basis-reason TEXT] [--access-until TIME] "
       "[--reason TEXT]",
       "Draft a referral of a case to another organisation, or to a partner mechanism "
       "abroad (see `referral partners`).",
       WithBasisFlags({{"to", true, false},
        {"partner", true, false},
        {"purpose", true, false},
        {"urgency", true, false},
        {"deadline", true, false},
        {"scope", true, true},
        {"access-until", true, false},
        {"reason", true, false}}),
       1, ReferralCreate},
      {"referral send", "referral send REFERRAL_ID [--reason TEXT]", "Send a draft referral.",
       {{"reason", true, false}}, 1, ReferralSend},
      {"referral ack", "referral ack REFERRAL_ID [--reason TEXT]",
       "Acknowledge a referral received.", {{"reason", true, false}}, 1, ReferralAck},
      {"referral accept", "referral accept REFERRAL_ID [--reason TEXT]",
       "Accept a referral received (gives access to its data scope).",
       {{"reason", true, false}}, 1, ReferralAccept},
      {"referral decline", "referral decline REFERRAL_ID --reason TEXT",
       "Decline a referral received.", {{"reason", true, false}}, 1, ReferralDecline},
      {"referral complete", "referral complete REFERRAL_ID [--reason TEXT]",
       "Mark an accepted referral completed.", {{"reason", true, false}}, 1,
       ReferralComplete},
      {"referral cancel", "referral cancel REFERRAL_ID [--reason TEXT]",
       "Cancel a referral you sent (ends any access it gave).", {{"reason", true, false}},
       1, ReferralCancel},
      {"referral inbox", "referral inbox [--overdue] [--status RSTATUS]",
       "List referrals received by your organisation.",
       {{"overdue", false, false}, {"status", true, false}}, 0, ReferralInbox},
      {"referral outbox", "referral outbox [--overdue] [--status RSTATUS]",
       "List referrals sent by your organisation.",
       {{"overdue", false, false}, {"status", true, false}}, 0, ReferralOutbox},
      {"referral figures", "referral figures",
       "Outcomes of your organisation's referrals, per receiver.", {}, 0, ReferralFigures},
      {"referral partners", "referral partners",
       "Partner mechanisms abroad that referrals can go to.", {}, 0, ReferralPartners},

      {"hotline log",
       "hotline log --channel CHANNEL --category CATEGORY [--language TAG] "
       "[--interpreter] [--caller-type CALLER] [--urgency low|medium|high] "
       "[--start TIME] [--end TIME] [--emergency-action EMERGENCY]",
       "Log a contact (administrative fields only; starts now unless --start).",
       {{"channel", true, false},
        {"category", true, false},
        {"language", true, false},
        {"interpreter", false, false},
        {"caller-type", true, false},
        {"urgency", true, false},
        {"start", true, false},
        {"end", true, false},
        {"emergency-action", true, false}},
       0, HotlineLog},
      {"hotline callbacks", "hotline callbacks [--overdue]",
       "Your open callbacks, in due order.", {{"overdue", false, false}}, 0,
       HotlineCallbacks},
      {"hotline dashboard", "hotline dashboard [--day YYYY-MM-DD]",
       "Today's (or that day's) contact counts of your organisation.",
       {{"day", true, false}}, 0, HotlineDashboard},

      {"plan get", "plan get CASE_ID",
       "Show a case's service plan: its items, their providers, status and due times.", {}, 1,
       PlanGet},
      {"plan add",
       "plan add CASE_ID --kind KIND [--need TEXT] [--provider ORG_ID] [--service SERVICE_ID] "
       "[--due TIME]",
       "Add an assessed need to a case's service plan (a new version, to be approved).",
       {{"kind", true, false},
        {"need", true, false},
        {"provider", true, false},
        {"service", true, false},
        {"due", true, false}},
       1, PlanAdd},
      {"plan approve", "plan approve CASE_ID --version N",
       "Approve the version of the plan you read (a supervisor of the owning organisation).",
       {{"version", true, false}}, 1, PlanApprove},
      {"plan refer",
       "plan refer CASE_ID ITEM_ID --urgency URGENCY --deadline TIME --scope CLASS... "
       "--basis BASIS [--order-ref REF] [--court COURT] [--basis-reason TEXT] [--reason TEXT]",
       "Refer a planned item to its provider: the referral and the item's move together.",
       WithBasisFlags({{"urgency", true, false},
        {"deadline", true, false},
        {"scope", true, true},
        {"reason", true, false}}),
       2, PlanRefer},
      {"plan deliver", "plan deliver CASE_ID ITEM_ID [--outcome TEXT] [--at TIME]",
       "Record that an item was delivered (the provider's staff, or the owning organisation).",
       {{"outcome", true, false}, {"at", true, false}}, 2, PlanDeliver},
      {"plan end", "plan end CASE_ID ITEM_ID [--declined]",
       "Cancel an item, or record that the person declined it.", {{"declined", false, false}}, 2,
       PlanEnd},
      {"plan overdue", "plan overdue", "List plan items past their due time on your cases.", {},
       0, PlanOverdue},
      {"permit apply",
       "permit apply CASE_ID --type PERMIT [--authority TEXT] [--renews PERMIT_ID] "
       "[--applied TIME]",
       "Record an application for a residence permit (or a renewal of one).",
       {{"type", true, false},
        {"authority", true, false},
        {"renews", true, false},
        {"applied", true, false}},
       1, PermitApply},
      {"permit decide",
       "permit decide CASE_ID PERMIT_ID --status granted|refused|withdrawn [--from TIME] "
       "[--until TIME] [--document NUMBER] [--decided TIME]",
       "Record the decision on a permit application, or its withdrawal.",
       {{"status", true, false},
        {"from", true, false},
        {"until", true, false},
        {"document", true, false},
        {"decided", true, false}},
       2, PermitDecide},
      {"permit list", "permit list CASE_ID", "List a case's residence permits.", {}, 1,
       PermitList},
      {"permit expiring", "permit expiring [--within DAYS]",
       "List permits in force expiring within DAYS (default 30), or expired unrenewed.",
       {{"within", true, false}}, 0, PermitExpiring},

      {"profile set",
       "profile set CASE_ID [--form F...] [--means M...] [--labour L...] [--sexual S...] "
       "[--recruiter R...] [--recruited-in CC...] [--exploited-in CC...] [--region NL-NH]",
       "Replace a case's exploitation profile (codes such as forced-labour, debt-bondage).",
       {{"form", true, true},
        {"means", true, true},
        {"labour", true, true},
        {"sexual", true, true},
        {"recruiter", true, true},
        {"recruited-in", true, true},
        {"exploited-in", true, true},
        {"region", true, false}},
       1, ProfileSet},
      {"profile show", "profile show CASE_ID", "Show a case's exploitation profile.", {}, 1,
       ProfileShow},
      {"stats counts", "stats counts --by DIMENSION... [--slice DIMENSION=VALUE...]",
       "Counts by one to three dimensions, with totals; small cells suppressed (analysts).",
       {{"by", true, true}, {"slice", true, true}}, 0, StatsCounts},
      {"stats series", "stats series [--by DIMENSION] [--slice DIMENSION=VALUE...]",
       "Counts by month of registration (analysts).",
       {{"by", true, false}, {"slice", true, true}}, 0, StatsSeries},
      {"stats report", "stats report unodc-glotip|national-annual --year YEAR",
       "The ready-made tables of a report (analysts).", {{"year", true, false}}, 1, StatsReport},
      {"stats export", "stats export ctdc|htcds [--out FILE]",
       "A k-anonymised dataset as CSV; says its k and what it generalised (analysts).",
       {{"out", true, false}}, 1, StatsExport},

      {"directory search",
       "directory search [--kind KIND] [--region R] [--language L] [--sex SEX] [--age N] "
       "[--children N] [--free] [--open-now | --open-at TIME] [--access FEATURE...] "
       "[--limit N]",
       "Find active services in the provider directory; a shelter only when it takes the "
       "person described (default limit 100).",
       {{"kind", true, false},
        {"region", true, false},
        {"language", true, false},
        {"sex", true, false},
        {"age", true, false},
        {"children", true, false},
        {"free", false, false},
        {"open-now", false, false},
        {"open-at", true, false},
        {"access", true, true},
        {"limit", true, false}},
       0, DirectorySearch},
      {"directory get", "directory get SERVICE_ID", "Show a service and its locations.", {},
       1, DirectoryGet},
      {"directory put-service", "directory put-service FILE",
       "Add or replace a service (ENTRY FILE); prints it as stored.", {}, 1,
       DirectoryPutService},
      {"directory put-location", "directory put-location FILE",
       "Add or replace a provider's location (ENTRY FILE); prints it as stored.", {}, 1,
       DirectoryPutLocation},
      {"directory put-profile", "directory put-profile FILE",
       "Set a provider's profile (ENTRY FILE); prints it as stored.", {}, 1,
       DirectoryPutProfile},
      {"directory free-places", "directory free-places SERVICE_ID N",
       "Say how many places a shelter of your organisation has free now.", {}, 2,
       DirectoryFreePlaces},
      {"directory import", "directory import FILE",
       "Import an Open Referral HSDS 3.0 JSON directory, whole or not at all "
       "(an administrator's).",
       {}, 1, DirectoryImport},
      {"directory export", "directory export [--out FILE]",
       "Write the whole directory as HSDS 3.0 JSON to FILE, or to standard output.",
       {{"out", true, false}}, 0, DirectoryExport},

      {"audit query",
       "audit query [--case CASE_ID | --principal ID] [--since TIME] [--until TIME] "
       "[--limit N]",
       "List audit entries, oldest first (default limit 100).",
       {{"case", true, false},
        {"principal", true, false},
        {"since", true, false},
        {"until", true, false},
        {"limit", true, false}},
       0, AuditQuery},
      {"audit verify", "audit verify",
       "Verify the audit hash chain and checkpoints; exit 1 when broken.", {}, 0,
       AuditVerify},

      {"return create", "return create CASE_ID --country CC --region TEXT",
       "Propose a voluntary return of the case's subject to their country of origin.",
       {{"country", true, false}, {"region", true, false}}, 1, ReturnCreate},
      {"return show", "return show CASE_ID PLAN_ID",
       "Show a return plan: status, consent, risks, documents, travel, reception, follow-ups.",
       {}, 2, ReturnShow},
      {"return list", "return list CASE_ID", "List the return plans of a case.", {}, 1,
       ReturnList},
      {"return approve", "return approve CASE_ID PLAN_ID [--override-reasons TEXT]",
       "Approve a return (a supervisor); a high risk needs written override reasons.",
       {{"override-reasons", true, false}}, 2, ReturnApprove},
      {"return close", "return close CASE_ID PLAN_ID --outcome OUTCOME [--note TEXT]",
       "Close a return with its outcome (reintegrated, partly-reintegrated, lost-contact, "
       "re-trafficked, migrated-again, other).",
       {{"outcome", true, false}, {"note", true, false}}, 2, ReturnClose},
      {"return assess", "return assess CASE_ID PLAN_ID FILE",
       "Record the risk assessment held in FILE (a haven.v1.RiskAssessment in text format: "
       "re_trafficking, retaliation, family_situation, health_needs, ...).",
       {}, 3, ReturnAssess},
      {"return refer", "return refer CASE_ID PLAN_ID FILE [--reason TEXT]",
       "Refer an approved plan to the organisation organising the return: FILE holds the "
       "haven.v1.Referral (receiver_organisation_id, lawful_basis, data_scope, ...).",
       {{"reason", true, false}}, 3, ReturnRefer},
      {"return take-on", "return take-on CASE_ID PLAN_ID",
       "Take a return referred to your organisation on as its return officer.", {}, 2,
       ReturnTakeOn},
      {"return documents", "return documents CASE_ID PLAN_ID FILE",
       "Replace the travel documents with those in FILE (documents { ... } entries).", {}, 3,
       ReturnDocuments},
      {"return schedule", "return schedule CASE_ID PLAN_ID FILE",
       "Schedule the journey and reception in FILE (travel { ... } reception { ... }); a "
       "reception by a partner abroad sends it a referral.",
       {}, 3, ReturnSchedule},
      {"return depart", "return depart CASE_ID PLAN_ID [--at TIME]",
       "Record the departure (default: now).", {{"at", true, false}}, 2, ReturnDepart},
      {"return arrive", "return arrive CASE_ID PLAN_ID [--at TIME]",
       "Record the arrival and hand-over (default: now).", {{"at", true, false}}, 2,
       ReturnArrive},
      {"return follow-up", "return follow-up CASE_ID PLAN_ID FILE",
       "Record the follow-up in FILE (months: 1, 3, 6 or 12; reached; situation; health).",
       {}, 3, ReturnFollowUp},
      {"return received", "return received CASE_ID REFERRAL_ID",
       "A return received from a partner mechanism abroad (its return referral here): arrival "
       "and the follow-ups due.",
       {}, 2, ReturnReceived},
      {"return received-follow-up", "return received-follow-up CASE_ID REFERRAL_ID FILE",
       "Record a follow-up of a person received from abroad (FILE as for return follow-up); it "
       "is sent back to the partner mechanism.",
       {}, 3, ReturnReceivedFollowUp},
      {"return suspend", "return suspend CASE_ID PLAN_ID --reason TEXT",
       "Put a return on hold.", {{"reason", true, false}}, 2, ReturnSuspend},
      {"return resume", "return resume CASE_ID PLAN_ID [--reason TEXT]",
       "Resume a return put on hold.", {{"reason", true, false}}, 2, ReturnResume},
      {"return cancel", "return cancel CASE_ID PLAN_ID --reason TEXT",
       "Cancel a return; its unfinished referrals are cancelled with it.",
       {{"reason", true, false}}, 2, ReturnCancel},
      {"protect reflection", "protect reflection CASE_ID",
       "The reflection and recovery period: start, end, days left, its extensions, and what it "
       "means.",
       {}, 1, ProtectReflection},
      {"protect claim", "protect claim CASE_ID FILE [--fields F,...]",
       "Record a compensation claim from FILE (a haven.v1.CompensationClaim in text format); "
       "with an id in FILE, --fields names what changes (status, awarded_minor, ...).",
       {{"fields", true, false}}, 2, ProtectClaim},
      {"protect claims", "protect claims CASE_ID", "List the case's compensation claims.", {}, 1,
       ProtectClaims},
      {"protect measure", "protect measure CASE_ID FILE [--fields F,...]",
       "Record a protective measure from FILE (proceeding_id, kind, status, ...); with an id, "
       "--fields names what changes.",
       {{"fields", true, false}}, 2, ProtectMeasure},
      {"protect measures", "protect measures CASE_ID", "List the case's protective measures.",
       {}, 1, ProtectMeasures},
      {"protect interpreter", "protect interpreter CASE_ID FILE [--fields F,...]",
       "Assign an interpreter from FILE (language, interpreter_name, ...: kept off the command "
       "line); with an id, --fields names what changes.",
       {{"fields", true, false}}, 2, ProtectInterpreter},
      {"protect interpretation", "protect interpretation CASE_ID",
       "The case's language needs and interpreters (names withheld where you may not see them).",
       {}, 1, ProtectInterpretation},
      {"protect language-needs", "protect language-needs CASE_ID [--set FILE]",
       "The case's language needs; with --set, replace them from FILE (languages: \"ti\" ... "
       "preferences: \"...\", a haven.v1.SetLanguageNeedsRequest in text format).",
       {{"set", true, false}}, 1, ProtectLanguageNeeds},
      {"return due", "return due [--by YYYY-MM-DD]",
       "Follow-ups due (default: today) on the returns your organisation reaches.",
       {{"by", true, false}}, 0, ReturnDue},
  };
  return kCommands;
}

constexpr std::string_view kGlobalHelp =
    "Global options (before the command, or after it unless the command has an\n"
    "option of the same name, as `sa create --cert` does):\n"
    "  --server HOST:PORT  server address (default: $HAVEN_SERVER, else 127.0.0.1:7443)\n"
    "  --ca FILE           use TLS, trusting this root CA certificate (PEM)\n"
    "  --cert FILE --key FILE\n"
    "                      mutual TLS with this client certificate (needs --ca);\n"
    "                      no token is sent\n"
    "  --purpose TOKEN     purpose of the access, sent as x-haven-purpose\n"
    "                      (default: none declared; a grant then serves its own)\n"
    "  --timeout-ms N      deadline of each call (default: 10000)\n"
    "\n"
    "Credentials: $HAVEN_TOKEN, else the file $HAVEN_TOKEN_FILE (default\n"
    "~/.config/haven/token) that `havenctl login` writes.\n"
    "\n"
    "Exit status: 0 on success; 1 on failure, printed as \"error: CODE: message\";\n"
    "2 on a usage error.\n";

constexpr std::string_view kValueHelp =
    "SUBJECT OPTIONS: --given-name G --family-name F --other-name N... --sex SEX\n"
    "  --dob YYYY-MM-DD --estimated-age N --age-disputed true|false\n"
    "  --citizenship CC... --language TAG...\n"
    "FIELD: a subject option name without dashes, e.g. other-name\n"
    "TIME: RFC 3339, e.g. 2025-01-31T17:00:00Z (or a date, midnight UTC)\n"
    "RSTATUS: draft, sent, acknowledged, accepted, declined, completed, cancelled,\n"
    "  expired\n"
    "ENTRY FILE: a haven.v1.ProviderService, ProviderLocation or ProviderProfile in\n"
    "  protobuf text format (proto/haven/v1/protection.proto), e.g.\n"
    "  name: \"Safe house\" kind: SERVICE_KIND_SHELTER regions: \"North Region\"\n"
    "Options written X... may be repeated.\n";

void PrintCommand(std::ostream& out, const Command& command) {
  out << "  havenctl " << command.usage << "\n      " << command.summary << "\n";
}

void PrintHelp(std::ostream& out) {
  out << "havenctl: command-line client of the Haven case-management server.\n\n"
         "usage: havenctl [GLOBAL OPTIONS] COMMAND [ARGUMENTS] [OPTIONS]\n\n"
         "Commands:\n";
  for (const Command& command : Commands()) PrintCommand(out, command);
  out << "  havenctl help [COMMAND]\n      Show this help, or that of one command.\n\n"
      << kValueHelp << "Values:\n"
      << ValueHelp() << "\n"
      << kGlobalHelp;
}

// The usage lines of every command whose name starts with `prefix`.
bool PrintUsage(std::ostream& out, std::string_view prefix) {
  bool any = false;
  for (const Command& command : Commands()) {
    const std::string_view name = command.name;
    if (name == prefix || (name.substr(0, prefix.size()) == prefix &&
                           name.size() > prefix.size() && name[prefix.size()] == ' ')) {
      if (!any) out << "usage:\n";
      PrintCommand(out, command);
      any = true;
    }
  }
  return any;
}

// True for the first word of two-word commands: "org", "user", ...
bool IsGroup(const std::string& word) {
  for (const Command& command : Commands()) {
    if (command.name.size() > word.size() && command.name.substr(0, word.size()) == word &&
        command.name[word.size()] == ' ') {
      return true;
    }
  }
  return false;
}

const Command* FindCommand(const std::vector<std::string>& args, size_t pos,
                           size_t* words) {
  for (const Command& command : Commands()) {
    if (pos + 1 < args.size() && command.name == args[pos] + " " + args[pos + 1]) {
      *words = 2;
      return &command;
    }
    if (command.name == args[pos]) {
      *words = 1;
      return &command;
    }
  }
  return nullptr;
}

int Help(const std::vector<std::string>& args, size_t pos) {
  std::string topic;
  for (size_t i = pos; i < args.size(); ++i) topic += (topic.empty() ? "" : " ") + args[i];
  if (topic.empty()) {
    PrintHelp(std::cout);
    return 0;
  }
  if (!PrintUsage(std::cout, topic)) {
    throw UsageError("no command \"" + topic + "\"");
  }
  std::cout << "\n" << kValueHelp << "Values:\n" << ValueHelp();
  return 0;
}

int Run(const std::vector<std::string>& args, std::string* usage_topic) {
  GlobalOptions options;
  const char* server = std::getenv("HAVEN_SERVER");
  options.server = server != nullptr && *server != '\0' ? server : "127.0.0.1:7443";

  std::vector<FlagSpec> leading = GlobalFlagSpecs();
  leading.push_back({"help", false, false});
  size_t pos = 0;
  const Flags global = ParseFlags(args, 0, leading, true, &pos);
  if (global.Has("help")) return Help(args, pos);
  ApplyGlobalFlags(global, {}, &options);
  if (pos == args.size()) throw UsageError("no command given");
  if (args[pos] == "help") return Help(args, pos + 1);

  size_t words = 0;
  const Command* command = FindCommand(args, pos, &words);
  if (command == nullptr) {
    *usage_topic = args[pos];  // a group such as "org" gets its usage lines
    if (pos + 1 == args.size() && IsGroup(args[pos])) {
      throw UsageError("\"" + args[pos] + "\" needs a subcommand");
    }
    throw UsageError(pos + 1 < args.size() && IsGroup(args[pos])
                         ? "unknown command \"" + args[pos] + " " + args[pos + 1] + "\""
                         : "unknown command \"" + args[pos] + "\"");
  }
  *usage_topic = std::string(command->name);

  std::vector<FlagSpec> specs = command->flags;
  for (const FlagSpec& spec : GlobalFlagSpecs()) {
    bool shadowed = false;
    for (const FlagSpec& own : command->flags) shadowed = shadowed || own.name == spec.name;
    if (!shadowed) specs.push_back(spec);
  }
  specs.push_back({"help", false, false});
  const Flags flags = ParseFlags(args, pos + words, specs, false, nullptr);
  if (flags.Has("help")) {
    PrintUsage(std::cout, command->name);
    return 0;
  }
  ApplyGlobalFlags(flags, command->flags, &options);
  CheckGlobalOptions(options);
  if (flags.args.size() != command->nargs) {
    throw UsageError(flags.args.size() < command->nargs
                         ? "missing argument"
                         : "unexpected argument \"" + flags.args[command->nargs] + "\"");
  }
  return command->run(options, flags);
}

}  // namespace
}  // namespace havenctl

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  std::string usage_topic;
  try {
    return havenctl::Run(args, &usage_topic);
  } catch (const havenctl::UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    if (usage_topic.empty() || !havenctl::PrintUsage(std::cerr, usage_topic)) {
      std::cerr << "usage: havenctl [GLOBAL OPTIONS] COMMAND [ARGUMENTS] [OPTIONS]\n"
                   "Run `havenctl help` for the list of commands.\n";
    }
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
