// Names: normalization of personal names into match keys for blind indexes.
#ifndef HAVEN_STORAGE_ACCESS_NAMES_H_
#define HAVEN_STORAGE_ACCESS_NAMES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace haven::access {

// Bounds of NameMatchKeys' work and output.
inline constexpr std::size_t kMaxNameInputBytes = 1024;  // rest is ignored
inline constexpr std::size_t kMaxNameMatchKeys = 16;     // later tokens ignored
inline constexpr std::size_t kMaxNameMatchKeyBytes = 32;  // keys are cut

// The matching keys of one name (any script, UTF-8): one per token, in the
// order the tokens first appear, duplicates removed. Callers compare key
// SETS, so "Fang Wang" and "Wang Fang" match. A key is a lossy phonetic code,
// but it is still derived from a name: only ever store it as a keyed hash
// (blind index), never log it. This function never logs or keeps its input,
// and never throws: on any failure (e.g. ICU) it returns an empty vector.
//
// 1. Words. Only the first kMaxNameInputBytes of the input are read (cut
//    at a code point boundary; invalid UTF-8 becomes U+FFFD). A word is a
//    run of letters, marks and digits in any script; everything else
//    separates words: spaces, hyphens, apostrophes, dots, symbols. So
//    "Al-Hassan" is {Al, Hassan}, "O'Brien" is {O, Brien}, "Jean-Pierre" is
//    {Jean, Pierre}, while "Alhassan" is one word with a different key. An
//    apostrophe between two Cyrillic letters is part of the word (Мар'яна).
// 2. Romanization, by ICU, of each word: Arabic tāʾ marbūṭa (ة) becomes a
//    final vowel; Russian letters are romanized with Russian-Latin/BGN
//    (Юсуф -> yusuf, Жанна -> zhanna) and everything else with Any-Latin
//    (Ukrainian є і ї, 王芳 -> wang fang, Αλέξανδρος -> alexandros); then
//    lower case; ʿ ʾ (ayin, hamza) become a vowel; ǝ ə ɛ ɔ ɣ ʃ ʒ become
//    e e e o g sh zh; Latin-ASCII strips diacritics (Müller -> muller,
//    Łukasz -> lukasz, ß -> ss; Ševčenko -> sevcenko, which matches
//    Sevcenko, not Shevchenko).
// 3. Tokens. The ASCII letters and digits of a romanized word form one
//    token, even where the romanization puts something else between them
//    (けんいち -> ken'ichi -> kenichi, Рэм -> r·em -> rem, ʹ of Ольга);
//    anything else that is left (an unsupported script) is dropped. The
//    first word of Han characters is read as a one-syllable surname and a
//    given name: 王芳 -> {wang, fang}, 王小明 and 王 小明 -> {wang, xiaoming},
//    as people write them in pinyin; two-character surnames (欧阳) are not
//    recognized. Korean and Japanese follow ICU's romanization (김 -> gim,
//    not Kim).
// 4. Key of a token: a sound code in upper-case letters and digits.
//    a. Spellings of one sound become one code, read left to right, longest
//       first: shch sch sh sz -> X; ch cz tch -> C; zh dj dzh xh -> J;
//       h kh gh g -> H; ph -> F; ck q k -> K; c -> S before e i y, else K;
//       x -> KS; s z -> S; v w -> V; token-final "ff" after a vowel -> V
//       (Smirnoff = Smirnov); digits stay. a e i o u are vowels. g joins h
//       because Cyrillic г is g in Russian and h in Ukrainian, and Russian
//       writes Arabic h as г: Ольга = Olha, Ибрагим = Ibrahim,
//       Магомед = Mohammed.
//    b. j and y are J at the start of a token (Jusuf = Yusuf) and vowels
//       elsewhere (Marija = Maria, Aleksey = Aleksei); but a token-initial
//       "ye" is a vowel (Yelena = Elena, as BGN writes Елена).
//    c. h is H at the start and between letters; it is silent at the end
//       (Sarah = Sara) and after b d j t (Thomas = Tomas). w after a
//       consonant and not before a vowel is a vowel (Arabic ywsf = Yusuf).
//    d. Repeats of a code collapse (Mohammed = Mohamed, Alexsander), then
//       vowels are dropped except as the first code, where every vowel is
//       "A" (Olena = Elena, Omar = Umar, Ibrahim = Ebrahim).
//    e. k and g, t and d, b and p, f and v, l and r, s and X stay apart
//       (Peter != Pedro, Karim != Garim).
//    Examples: Mohammed Muhammad Mohamad محمد -> MHMD; Aleksandr Alexander
//    Александр -> ALKSNDR; Yusuf Youssef Jusuf -> JSF.
//    Consequences, by design: names that differ only in vowels after the
//    first letter collapse. That is right for variants (Fatima = Fatma,
//    Yusuf = Yosef = Joseph) and costs precision elsewhere: Maria = Mario
//    = Mira, Jan = Jean = Juan = Joan, Ali = Eli, Alina = Elena,
//    Hasan = Husein, Aleksandr = Aleksandra; also Yana = Zhanna (J class).
//    This suits a blind index that proposes candidates for a person to
//    review, not one that decides identity. Pairs kept apart include
//    Maria/Marta, Ivan/Irina, Ali/Alina, Peter/Paul, Peter/Pedro,
//    Anna/Hannah, John/Joan, Wang/Fang, Olga/Olena.
// 5. At most kMaxNameMatchKeys distinct keys are returned (tokens beyond
//    that are ignored), each at most kMaxNameMatchKeyBytes bytes, never
//    empty. A name with no letters or digits (empty, whitespace, or a
//    script ICU cannot romanize) gives an empty vector.
//
// Thread-safe: each thread uses its own clone of one ICU transliterator.
std::vector<std::string> NameMatchKeys(absl::string_view utf8_name);

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_NAMES_H_
