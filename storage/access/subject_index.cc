// SubjectIndex: the blind-index keys a case's subject is found by.
#include "storage/access/subject_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/access/names.h"

namespace haven::access {

std::vector<std::string> SubjectNameKeys(const haven::v1::Subject& subject) {
  std::vector<std::string> keys;
  auto add = [&](const std::string& name) {
    for (std::string& k : NameMatchKeys(name)) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
    }
  };
  add(subject.given_name());
  add(subject.family_name());
  for (const std::string& n : subject.other_names()) add(n);
  std::string duplicate = DuplicateKey(subject);
  if (!duplicate.empty()) keys.push_back(std::move(duplicate));
  return keys;
}

std::string DuplicateKey(const haven::v1::Subject& subject) {
  if (!subject.has_date_of_birth() || subject.date_of_birth().year() == 0) return "";
  std::vector<std::string> tokens =
      NameMatchKeys(absl::StrCat(subject.given_name(), " ", subject.family_name()));
  if (tokens.empty()) return "";
  std::sort(tokens.begin(), tokens.end());
  const haven::v1::Date& d = subject.date_of_birth();
  // The prefix keeps these keys apart from single-token keys.
  return absl::StrCat("duplicate:", absl::StrJoin(tokens, " "), "|", d.year(), "-", d.month(), "-",
                      d.day());
}

}  // namespace haven::access
