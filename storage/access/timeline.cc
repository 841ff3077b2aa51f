// CaseDoor's timeline: events appended to a case, each carrying the class of what it describes.
#include "storage/access/case_door.h"

#include "absl/strings/str_cat.h"
#include "storage/access/case_door_parts.h"
#include "storage/keys.h"
#include "storage/timestamps.h"

namespace haven::access {
namespace {

namespace v1 = haven::v1;

// The class of what an event of each kind describes: the class its record
// carries (consent decisions, screening results, proceedings against the
// subject and best-interests findings are about the person; a delivered
// service may be care). Kinds not listed are about the handling of the case.
v1::ConfidentialityClass ClassOfKind(v1::TimelineEventKind kind) {
  switch (kind) {
    case v1::TIMELINE_EVENT_CONSENT_RECORDED:
    case v1::TIMELINE_EVENT_CONSENT_WITHDRAWN:
    case v1::TIMELINE_EVENT_PERSON_LINKED:
    case v1::TIMELINE_EVENT_SCREENED:
    case v1::TIMELINE_EVENT_PROCEEDING_RECORDED:
    case v1::TIMELINE_EVENT_BEST_INTERESTS_ASSESSED:
    case v1::TIMELINE_EVENT_PERMIT_RECORDED:  // immigration status
    case v1::TIMELINE_EVENT_PROTECTION_RECORDED:  // claims, measures, interpreters
      return v1::CONFIDENTIALITY_PSEUDONYMOUS;
    case v1::TIMELINE_EVENT_SERVICE_DELIVERED:
    case v1::TIMELINE_EVENT_PLAN_CHANGED:  // names the kind of help planned
      return v1::CONFIDENTIALITY_HEALTH;
    default:
      return v1::CONFIDENTIALITY_ADMINISTRATIVE;
  }
}

}  // namespace

void WithholdTimelineEvent(v1::TimelineEvent* event, ClassSet visible) {
  // Events written before they carried a class take their kind's.
  const v1::ConfidentialityClass about =
      event->about() != v1::CONFIDENTIALITY_CLASS_UNSPECIFIED ? event->about()
                                                              : ClassOfKind(event->kind());
  if (!visible.Contains(about)) {
    event->clear_summary();
    event->clear_detail();
  }
}

absl::Status CaseScope::AppendTimeline(v1::TimelineEventKind kind, absl::string_view summary,
                                       absl::string_view detail) {
  v1::TimelineEvent event;
  event.set_sequence(record_.timeline_length() + 1);
  *event.mutable_time() = MicrosToTimestamp(now_micros_);
  event.set_kind(kind);
  event.set_actor_id(ctx_->principal.id);
  event.set_actor_organisation_id(ctx_->principal.organisation_id);
  event.set_summary(std::string(summary));
  event.set_detail(std::string(detail));
  event.set_about(ClassOfKind(kind));
  std::string id;
  keys::AppendU64(&id, event.sequence());
  if (absl::Status s = Save(RecordKind::kTimeline, id, event); !s.ok()) return s;
  mutable_record()->set_timeline_length(event.sequence());
  return absl::OkStatus();
}

}  // namespace haven::access
