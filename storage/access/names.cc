// Names: normalization of personal names into match keys for blind indexes.
#include "storage/access/names.h"

#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace haven::access {
namespace {

// Step 2 of the header comment, as one compound ICU transliterator.
// Russian-Latin/BGN touches only Russian letters (its rules open with the
// filter ::[ЁА-яё];), so it needs no filter here.
constexpr char kRules[] =
    ":: NFC ;\n"
    "\\u0629 > a ;\n"  // Arabic tāʾ marbūṭa
    ":: Russian-Latin/BGN ;\n"
    ":: Any-Latin ;\n"
    ":: NFC ;\n"
    ":: Any-Lower ;\n"
    "[\\u02BF\\u02BE] > a ;\n"         // ʿ ʾ
    "[\\u01DD\\u0259\\u025B] > e ;\n"  // ǝ ə ɛ
    "\\u0254 > o ;\n"                  // ɔ
    "\\u0263 > g ;\n"                  // ɣ
    "\\u0283 > sh ;\n"                 // ʃ
    "\\u0292 > zh ;\n"                 // ʒ
    ":: Latin-ASCII ;\n";

// The shared prototype, built once; null if ICU failed. Never destroyed, so
// that no thread_local clone outlives it. Transliterators must not be used
// by several threads without synchronization (translit.h): each thread
// clones the prototype once, under a mutex, and uses its own clone.
const icu::Transliterator* Prototype() {
  static std::once_flag once;
  static const icu::Transliterator* prototype = nullptr;
  std::call_once(once, [] {
    UErrorCode status = U_ZERO_ERROR;
    UParseError parse_error;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createFromRules(
        "haven-names", icu::UnicodeString(kRules, -1, US_INV), UTRANS_FORWARD,
        parse_error, status));
    if (U_SUCCESS(status) && t != nullptr) prototype = t.release();
  });
  return prototype;
}

// This thread's transliterator, or null if ICU failed.
icu::Transliterator* ThreadTransliterator() {
  thread_local std::unique_ptr<icu::Transliterator> mine;
  if (mine == nullptr) {
    const icu::Transliterator* prototype = Prototype();
    if (prototype == nullptr) return nullptr;
    static std::mutex& clone_mu = *new std::mutex;
    std::lock_guard<std::mutex> lock(clone_mu);
    mine.reset(prototype->clone());
  }
  return mine.get();
}

// The longest prefix of `s` of at most `max` bytes that does not end inside
// a UTF-8 sequence.
absl::string_view CutUtf8(absl::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  // While the first byte cut off continues a sequence (10xxxxxx), move the
  // cut back, so that it lands before that sequence's lead byte.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

bool IsVowelLetter(char c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

constexpr char kVowel = '.';

// Step 4 of the header comment. `t` is lower-case ASCII letters and digits,
// non-empty.
std::string TokenKey(absl::string_view t) {
  auto at = [t](std::size_t k) { return k < t.size() ? t[k] : '\0'; };
  // y is a vowel except at the start of a token.
  auto vowel_at = [t, at](std::size_t k) {
    return k < t.size() && (IsVowelLetter(at(k)) || (at(k) == 'y' && k > 0));
  };
  struct Graph {
    const char* spelling;
    const char* codes;
  };
  // Longest first where one is a prefix of another.
  static constexpr Graph kGraphs[] = {
      {"shch", "X"}, {"sch", "X"}, {"tch", "C"}, {"dzh", "J"}, {"sh", "X"},
      {"sz", "X"},   {"ch", "C"},  {"cz", "C"},  {"zh", "J"},  {"dj", "J"},
      {"xh", "J"},   {"kh", "H"},  {"gh", "H"},  {"ph", "F"},  {"ck", "K"},
  };

  std::string codes;  // one char per sound, kVowel for a vowel
  std::size_t i = 0;
  if (absl::StartsWith(t, "ye")) {  // Yelena = Elena
    codes += kVowel;
    i = 1;
  }
  while (i < t.size() && codes.size() < 4 * kMaxNameMatchKeyBytes) {
    const char c = t[i];
    const absl::string_view rest = t.substr(i);
    bool matched = false;
    for (const Graph& g : kGraphs) {
      if (absl::StartsWith(rest, g.spelling)) {
        codes += g.codes;
        i += absl::string_view(g.spelling).size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (rest == "ff" && i > 0 && vowel_at(i - 1)) {  // Smirnoff = Smirnov
      codes += 'V';
      break;
    }
    switch (c) {
      case 'a': case 'e': case 'i': case 'o': case 'u':
        codes += kVowel;
        break;
      case 'j': case 'y':
        codes += i == 0 ? 'J' : kVowel;
        break;
      case 'w':
        codes += (i > 0 && !vowel_at(i - 1) && !vowel_at(i + 1)) ? kVowel : 'V';
        break;
      case 'h': {
        const char prev = i > 0 ? t[i - 1] : '\0';
        const bool silent =
            i > 0 && (i + 1 == t.size() || prev == 'b' || prev == 'd' ||
                      prev == 'j' || prev == 't');
        if (!silent) codes += 'H';
        break;
      }
      case 'c': {
        const char next = at(i + 1);
        codes += (next == 'e' || next == 'i' || next == 'y') ? 'S' : 'K';
        break;
      }
      case 'g':  // Cyrillic г is g in Russian, h in Ukrainian
        codes += 'H';
        break;
      case 'q': case 'k':
        codes += 'K';
        break;
      case 'x':
        codes += "KS";
        break;
      case 's': case 'z':
        codes += 'S';
        break;
      case 'v':
        codes += 'V';
        break;
      default:  // b d f l m n p r t and digits
        codes += absl::ascii_toupper(static_cast<unsigned char>(c));
        break;
    }
    ++i;
  }

  // Collapse repeats, then keep the first code and the non-vowels.
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  std::string key;
  for (std::size_t k = 0; k < codes.size(); ++k) {
    if (k == 0) {
      key += codes[k] == kVowel ? 'A' : codes[k];
    } else if (codes[k] != kVowel) {
      key += codes[k];
    }
  }
  if (key.size() > kMaxNameMatchKeyBytes) key.resize(kMaxNameMatchKeyBytes);
  return key;
}

bool IsWordChar(UChar32 c) {
  return (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK)) != 0;
}

UScriptCode ScriptOf(UChar32 c) {
  UErrorCode status = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(c, &status);
  return U_SUCCESS(status) ? script : USCRIPT_INVALID_CODE;
}

// Adds to `keys` the keys of one word of the input (steps 2 to 4).
void AddWordKeys(const icu::UnicodeString& word, bool split_han,
                 icu::Transliterator& transliterator,
                 std::vector<std::string>& keys) {
  icu::UnicodeString romanized(word);
  transliterator.transliterate(romanized);
  if (romanized.isBogus()) return;
  std::string utf8;
  romanized.toUTF8String(utf8);
  // Runs of ASCII letters and digits, split where the romanization put
  // anything else.
  std::vector<std::string> pieces;
  bool in_piece = false;
  for (const char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    const bool alnum = absl::ascii_isalnum(byte);
    if (alnum && !in_piece) pieces.emplace_back();
    if (alnum) pieces.back() += absl::ascii_tolower(byte);
    in_piece = alnum;
  }
  if (pieces.empty()) return;
  // The first Han word is a surname syllable and a given name; any other
  // word stays one token.
  std::vector<std::string> tokens(1, pieces[0]);
  if (split_han && pieces.size() > 1) tokens.emplace_back();
  for (std::size_t k = 1; k < pieces.size(); ++k) tokens.back() += pieces[k];
  for (const std::string& token : tokens) {
    if (keys.size() >= kMaxNameMatchKeys) return;
    std::string key = TokenKey(token);
    if (key.empty()) continue;
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(std::move(key));
    }
  }
}

std::vector<std::string> KeysOrThrow(absl::string_view utf8_name) {
  icu::Transliterator* transliterator = ThreadTransliterator();
  if (transliterator == nullptr) return {};
  const icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      CutUtf8(utf8_name, kMaxNameInputBytes));
  if (text.isBogus()) return {};

  // Step 1: words of the input.
  std::vector<std::string> keys;
  bool han_seen = false;
  const int32_t n = text.length();
  int32_t i = 0;
  while (i < n && keys.size() < kMaxNameMatchKeys) {
    while (i < n && !IsWordChar(text.char32At(i))) {
      i += U16_LENGTH(text.char32At(i));
    }
    const int32_t start = i;
    bool all_han = true;
    UChar32 prev = 0;
    while (i < n) {
      const UChar32 c = text.char32At(i);
      const int32_t len = U16_LENGTH(c);
      const bool cyrillic_apostrophe =
          (c == 0x27 || c == 0x2019) && i > start &&
          ScriptOf(prev) == USCRIPT_CYRILLIC && i + len < n &&
          ScriptOf(text.char32At(i + len)) == USCRIPT_CYRILLIC;
      if (!IsWordChar(c) && !cyrillic_apostrophe) break;
      all_han = all_han && ScriptOf(c) == USCRIPT_HAN;
      prev = c;
      i += len;
    }
    if (i == start) break;
    AddWordKeys(text.tempSubStringBetween(start, i), all_han && !han_seen,
                *transliterator, keys);
    han_seen = han_seen || all_han;
  }
  return keys;
}

}  // namespace

std::vector<std::string> NameMatchKeys(absl::string_view utf8_name) {
  try {
    return KeysOrThrow(utf8_name);
  } catch (...) {  // e.g. std::bad_alloc: a name that cannot be keyed
    return {};
  }
}

}  // namespace haven::access
