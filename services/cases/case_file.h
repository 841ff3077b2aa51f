// CaseFile: the domain rules of the case core (open, read, update, erase),
// on top of the CaseDoor. Thread-safe.
#ifndef HAVEN_SERVICES_CASES_CASE_FILE_H_
#define HAVEN_SERVICES_CASES_CASE_FILE_H_

#include "absl/status/statusor.h"
#include "haven/v1/case.pb.h"
#include "storage/access/case_door.h"

namespace haven::cases {

// INVALID_ARGUMENT naming the first field that is wrong; never echoes a value.
absl::Status ValidateSubject(const haven::v1::Subject& subject, absl::Time now);

class CaseFile {
 public:
  CaseFile(access::CaseDoor* door, const Clock* clock) : door_(door), clock_(clock) {}

  absl::StatusOr<haven::v1::Case> Create(const access::RequestContext& ctx,
                                         const haven::v1::CreateCaseRequest& request);
  absl::StatusOr<haven::v1::Case> Get(const access::RequestContext& ctx,
                                      const haven::v1::GetCaseRequest& request);
  absl::StatusOr<haven::v1::Case> Update(const access::RequestContext& ctx,
                                         const haven::v1::UpdateCaseRequest& request);
  absl::Status Erase(const access::RequestContext& ctx,
                     const haven::v1::EraseCaseRequest& request);

 private:
  access::CaseDoor* door_;
  const Clock* clock_;
};

}  // namespace haven::cases

#endif  // HAVEN_SERVICES_CASES_CASE_FILE_H_
