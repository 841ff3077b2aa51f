// SubjectIndex: the blind-index keys a case's subject is found by, and the
// key that flags a possible duplicate. Plaintext names go in; only match
// keys come out, which the door stores as keyed hashes.
#ifndef HAVEN_STORAGE_ACCESS_SUBJECT_INDEX_H_
#define HAVEN_STORAGE_ACCESS_SUBJECT_INDEX_H_

#include <string>
#include <vector>

#include "haven/v1/case.pb.h"

namespace haven::access {

// One key per distinct name token of the given, family and other names,
// and the duplicate key when there is one.
std::vector<std::string> SubjectNameKeys(const haven::v1::Subject& subject);

// The given and family names' keys, sorted, with the date of birth; empty
// without a year of birth or a name. Two subjects with the same key may be
// the same person.
std::string DuplicateKey(const haven::v1::Subject& subject);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_SUBJECT_INDEX_H_
