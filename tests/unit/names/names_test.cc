// Unit tests of NameMatchKeys: variants, must-differ pairs, bounds, threads.
#include <cstddef>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "storage/access/names.h"

namespace haven::access {
namespace {

using Keys = std::vector<std::string>;

std::set<std::string> KeySet(absl::string_view name) {
  std::vector<std::string> keys = NameMatchKeys(name);
  return std::set<std::string>(keys.begin(), keys.end());
}

// Every key is non-empty, short, upper-case ASCII letters and digits; there
// are at most kMaxNameMatchKeys of them and no duplicates.
void ExpectWellFormed(const std::vector<std::string>& keys) {
  EXPECT_LE(keys.size(), kMaxNameMatchKeys);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(),
            keys.size());
  for (const std::string& key : keys) {
    EXPECT_FALSE(key.empty());
    EXPECT_LE(key.size(), kMaxNameMatchKeyBytes);
    for (char c : key) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << key;
    }
  }
}

// Each group: spellings of one name that must give one identical key set.
const std::vector<std::vector<std::string>>& VariantGroups() {
  static const auto* groups = new std::vector<std::vector<std::string>>{
      {"Mohammed", "Muhammad", "Mohamed", "Mohamad", "Muhammed", "MOHAMMED",
       "Mohammad", "محمد", "Магомед"},
      {"Aleksandr", "Alexander", "Aleksander", "Александр", "Олександр"},
      {"Yusuf", "Youssef", "Yousef", "Jusuf", "Юсуф", "يوسف"},
      {"Olena", "Олена"},
      {"Elena", "Елена", "Yelena"},
      {"Nguyễn", "Nguyen", "NGUYEN"},
      {"José", "Jose"},
      {"Müller", "Muller", "Mueller"},
      {"Zoë", "Zoe"},
      {"Łukasz", "Lukasz"},
      {"Ştefan", "Stefan", "Ștefan"},
      {"Αλέξανδρος", "Alexandros"},
      {"王芳", "Wang Fang", "wang  fang", "Fang Wang"},
      {"王小明", "王 小明", "Wang Xiaoming", "WANG XIAOMING"},
      {"けんいち", "ケンイチ", "Kenichi"},  // ICU writes ken'ichi
      {"Shevchenko", "Шевченко"},
      {"Smirnov", "Smirnoff", "Смирнов"},
      {"Ahmed", "Ahmad", "Akhmed", "Ахмед", "أحمد"},
      {"Omar", "Umar", "عمر"},
      {"Ali", "علي"},
      {"Fatima", "Fatimah", "فاطمة"},
      {"Hasan", "Hassan", "Хасан", "حسن", "Гасан"},
      {"Olga", "Olha", "Ольга"},
      {"Sergey", "Sergiy", "Serhii", "Сергей", "Сергій"},
      {"Ibrahim", "Ebrahim", "Ибрагим"},
      {"Hanna", "Ганна"},
      {"Xhevdet", "Dzhevdet", "Джевдет"},
      {"Rem", "Рэм"},  // BGN writes R·em
      {"Meri", "Мэри"},
      {"Maryana", "Мар'яна", "Мар’яна"},
      {"Yohannes", "ዮሐንስ"},
      {"Sara", "Sarah"},
      {"Thomas", "Tomas", "Tomás"},
      {"Elizabeth", "Elisabeth"},
      {"Maria", "Marija", "María"},
      {"Đorđe Petrović", "Dorde Petrovic"},
      {"Gʻulom", "Gulom"},
  };
  return *groups;
}

TEST(NameMatchKeysTest, VariantGroupsGiveOneKeySet) {
  for (const auto& group : VariantGroups()) {
    const std::set<std::string> first = KeySet(group.front());
    EXPECT_FALSE(first.empty()) << group.front();
    for (const std::string& name : group) {
      SCOPED_TRACE(group.front() + " vs " + name);
      EXPECT_EQ(KeySet(name), first);
      ExpectWellFormed(NameMatchKeys(name));
    }
  }
}

TEST(NameMatchKeysTest, DocumentedExampleKeys) {
  EXPECT_EQ(NameMatchKeys("Mohammed"), Keys({"MHMD"}));
  EXPECT_EQ(NameMatchKeys("Aleksandr"), Keys({"ALKSNDR"}));
  EXPECT_EQ(NameMatchKeys("Yusuf"), Keys({"JSF"}));
  EXPECT_EQ(NameMatchKeys("Αλέξανδρος"), Keys({"ALKSNDRS"}));
  EXPECT_EQ(NameMatchKeys("王芳"), Keys({"VNH", "FNH"}));
  EXPECT_EQ(NameMatchKeys("Łukasz"), Keys({"LKX"}));
}

TEST(NameMatchKeysTest, DifferentNamesStayApart) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"Maria", "Marta"},      {"Ivan", "Irina"},     {"Ali", "Alina"},
      {"Peter", "Paul"},       {"Peter", "Pedro"},    {"Anna", "Hannah"},
      {"John", "Joan"},        {"Mohammed", "Ahmed"}, {"Yusuf", "Yunus"},
      {"Wang", "Fang"},        {"Olga", "Olena"},     {"Sasha", "Sasa"},
      {"Karim", "Garim"},
  };
  for (const auto& [a, b] : pairs) {
    EXPECT_NE(KeySet(a), KeySet(b)) << a << " vs " << b;
  }
}

// Collisions the header documents as accepted: only vowels differ.
TEST(NameMatchKeysTest, DocumentedCollisions) {
  EXPECT_EQ(KeySet("Maria"), KeySet("Mario"));
  EXPECT_EQ(KeySet("Fatima"), KeySet("Fatma"));
  EXPECT_EQ(KeySet("Yusuf"), KeySet("Joseph"));
  EXPECT_EQ(KeySet("Jan"), KeySet("Jean"));
  EXPECT_EQ(KeySet("Jan"), KeySet("Joan"));
  EXPECT_EQ(KeySet("Ali"), KeySet("Eli"));
  EXPECT_EQ(KeySet("Olena"), KeySet("Elena"));
  EXPECT_EQ(KeySet("Aleksandr"), KeySet("Aleksandra"));
  EXPECT_EQ(KeySet("Hasan"), KeySet("Husein"));
}

TEST(NameMatchKeysTest, PunctuationSplitsTokens) {
  EXPECT_EQ(NameMatchKeys("Al-Hassan"), Keys({"AL", "HSN"}));
  EXPECT_EQ(NameMatchKeys("Al-Hassan"), NameMatchKeys("Al Hassan"));
  EXPECT_NE(KeySet("Al-Hassan"), KeySet("Alhassan"));
  EXPECT_EQ(NameMatchKeys("O'Brien"), Keys({"A", "BRN"}));
  EXPECT_EQ(NameMatchKeys("O’Brien"), NameMatchKeys("O'Brien"));
  EXPECT_EQ(NameMatchKeys("Jean-Pierre"), Keys({"JN", "PR"}));
  EXPECT_EQ(NameMatchKeys("J.R. Smith"), NameMatchKeys("J R Smith"));
  EXPECT_EQ(NameMatchKeys("  Smith,\tJohn (Jr.) "),
            NameMatchKeys("Smith John Jr"));
}

TEST(NameMatchKeysTest, OrderOfAppearanceDuplicatesRemoved) {
  EXPECT_EQ(NameMatchKeys("Anna Maria Anna"), Keys({"AN", "MR"}));
  EXPECT_EQ(NameMatchKeys("Maria Mario"), Keys({"MR"}));
  EXPECT_EQ(NameMatchKeys("Maria Anna"), Keys({"MR", "AN"}));
  EXPECT_EQ(KeySet("Olena Shevchenko"), KeySet("SHEVCHENKO, Olena"));
}

TEST(NameMatchKeysTest, DigitsAreKept) {
  EXPECT_EQ(NameMatchKeys("Maria 2"), Keys({"MR", "2"}));
}

TEST(NameMatchKeysTest, NothingToMatchGivesEmpty) {
  EXPECT_TRUE(NameMatchKeys("").empty());
  EXPECT_TRUE(NameMatchKeys(" ").empty());
  EXPECT_TRUE(NameMatchKeys(" \t\r\n ").empty());
  EXPECT_TRUE(NameMatchKeys("\u3000\u00A0").empty());  // wide, no-break
  EXPECT_TRUE(NameMatchKeys(" - ' . , ").empty());
  EXPECT_TRUE(NameMatchKeys("😀 ☺").empty());
}

TEST(NameMatchKeysTest, MixedScripts) {
  EXPECT_EQ(KeySet("Olena Шевченко"), KeySet("Олена Shevchenko"));
  EXPECT_EQ(KeySet("王芳 Smith"), KeySet("Wang Fang Smith"));
  EXPECT_EQ(KeySet("Мухаммед Yusuf"), KeySet("Muhammed Юсуф"));
  ExpectWellFormed(NameMatchKeys("Αλέξανδρος 王 محمد Олена ዮሐንስ Nguyễn"));
  EXPECT_EQ(NameMatchKeys("Αλέξανδρος 王 محمد Олена ዮሐንስ Nguyễn").size(), 6u);
}

TEST(NameMatchKeysTest, InvalidUtf8DoesNotCrash) {
  const std::vector<std::string> keys =
      NameMatchKeys(std::string("Maria\xff\xfe Anna\xc3", 12));
  ExpectWellFormed(keys);
  EXPECT_EQ(keys, Keys({"MR", "AN"}));  // bad bytes separate tokens
}

TEST(NameMatchKeysTest, LongInputIsBounded) {
  std::vector<std::string> inputs;
  inputs.push_back(std::string(10000, 'a'));
  inputs.push_back(std::string(10000, 'x'));  // each x is two codes
  std::string names;
  while (names.size() < 10000) names += "Mohammed ";
  inputs.push_back(names);
  std::string cyrillic;
  while (cyrillic.size() < 10000) cyrillic += "Жщ";  // 2-byte letters
  inputs.push_back(cyrillic);
  std::string han;
  while (han.size() < 10000) han += "王芳李";
  inputs.push_back(han);
  // 10,000 characters of many distinct tokens ("bd", "bf", ... "tt").
  const std::string consonants = "bdfgklmnprt";
  std::string distinct;
  for (std::size_t n = 0; distinct.size() < 10000; ++n) {
    distinct += consonants[n / consonants.size() % consonants.size()];
    distinct += consonants[n % consonants.size()];
    distinct += ' ';
  }
  inputs.push_back(distinct.substr(0, 10000));
  for (const std::string& input : inputs) {
    const std::vector<std::string> keys = NameMatchKeys(input);
    ExpectWellFormed(keys);
    EXPECT_FALSE(keys.empty());
  }
  EXPECT_EQ(NameMatchKeys(distinct).size(), kMaxNameMatchKeys);
  EXPECT_EQ(NameMatchKeys(std::string(10000, 'x')).front().size(),
            kMaxNameMatchKeyBytes);
}

TEST(NameMatchKeysTest, InputIsCutAtCodePointBoundary) {
  // The cut at kMaxNameInputBytes falls inside the 2-byte 'Ж'.
  const std::string name = std::string(kMaxNameInputBytes - 1, ' ') + "Жанна";
  EXPECT_TRUE(NameMatchKeys(name).empty());
  const std::string fits = std::string(kMaxNameInputBytes - 12, ' ') + "Жанна";
  EXPECT_EQ(KeySet(fits), KeySet("Zhanna"));
}

TEST(NameMatchKeysTest, ConcurrentCallsMatchSequential) {
  std::vector<std::string> names;
  for (const auto& group : VariantGroups()) {
    names.insert(names.end(), group.begin(), group.end());
  }
  std::vector<std::vector<std::string>> expected;
  for (const std::string& name : names) expected.push_back(NameMatchKeys(name));

  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  std::vector<std::vector<std::vector<std::string>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&names, &got, t] {
      std::vector<std::vector<std::string>>& mine = got[t];
      mine.resize(names.size());
      // Each thread starts elsewhere in the list, so that at any moment the
      // threads normalize different names.
      for (int round = 0; round < kRounds; ++round) {
        for (std::size_t k = 0; k < names.size(); ++k) {
          const std::size_t n =
              (k + t * names.size() / kThreads) % names.size();
          mine[n] = NameMatchKeys(names[n]);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(got[t], expected) << "thread " << t;
  }
}

}  // namespace
}  // namespace haven::access
