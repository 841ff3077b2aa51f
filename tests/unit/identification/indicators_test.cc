// Indicator sets: the shipped data, validation, and AssessStrength.
#include "services/identification/indicators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace haven::identification {
namespace {

namespace v1 = haven::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// ------------------------------------------------------------ shipped data

TEST(ShippedIndicatorSetsTest, EverySetLoadsAndValidates) {
  absl::StatusOr<std::vector<v1::IndicatorSet>> sets = ShippedIndicatorSets();
  ASSERT_TRUE(sets.ok()) << sets.status();
  std::vector<std::string> ids;
  for (const v1::IndicatorSet& set : *sets) {
    ids.push_back(set.id());
    EXPECT_TRUE(ValidateIndicatorSet(set).ok()) << set.id();
  }
  EXPECT_THAT(ids, ElementsAre("general", "sexual-exploitation", "forced-labour",
                               "domestic-servitude", "forced-begging-and-criminality",
                               "children"));
}

TEST(ShippedIndicatorSetsTest, SetsFollowTheDataRules) {
  const std::map<std::string, std::string> kPrefix = {
      {"general", "GEN-"},       {"sexual-exploitation", "SEX-"},
      {"forced-labour", "FL-"},  {"domestic-servitude", "DS-"},
      {"forced-begging-and-criminality", "FBC-"}, {"children", "CH-"}};
  absl::StatusOr<std::vector<v1::IndicatorSet>> sets = ShippedIndicatorSets();
  ASSERT_TRUE(sets.ok()) << sets.status();
  for (const v1::IndicatorSet& set : *sets) {
    SCOPED_TRACE(set.id());
    EXPECT_EQ(set.version(), 1u);
    EXPECT_FALSE(set.title().empty());
    EXPECT_THAT(set.source(), HasSubstr("ILO"));
    EXPECT_THAT(set.source(), HasSubstr("UNODC"));
    EXPECT_EQ(set.for_children(), set.id() == "children");
    EXPECT_GE(set.indicators_size(), 12);
    EXPECT_LE(set.indicators_size(), 25);
    std::set<std::string> codes, texts;
    std::map<v1::IndicatorCategory, int> per_category;
    for (const v1::Indicator& indicator : set.indicators()) {
      EXPECT_TRUE(codes.insert(indicator.code()).second) << "duplicate " << indicator.code();
      EXPECT_TRUE(texts.insert(indicator.text()).second) << "repeated text " << indicator.code();
      EXPECT_TRUE(absl::StartsWith(indicator.code(), kPrefix.at(set.id()))) << indicator.code();
      EXPECT_NE(indicator.category(), v1::INDICATOR_CATEGORY_UNSPECIFIED) << indicator.code();
      EXPECT_NE(indicator.strength(), v1::INDICATOR_STRENGTH_UNSPECIFIED) << indicator.code();
      ++per_category[indicator.category()];
    }
    EXPECT_GT(per_category[v1::INDICATOR_CATEGORY_ACT], 0);
    EXPECT_GT(per_category[v1::INDICATOR_CATEGORY_PURPOSE], 0);
    if (!set.for_children()) {
      EXPECT_GT(per_category[v1::INDICATOR_CATEGORY_MEANS], 0);
    }
  }
}

TEST(ShippedIndicatorSetsTest, EverySetCanReachStrongForAdultsAndChildren) {
  absl::StatusOr<std::vector<v1::IndicatorSet>> sets = ShippedIndicatorSets();
  ASSERT_TRUE(sets.ok()) << sets.status();
  for (const v1::IndicatorSet& set : *sets) {
    SCOPED_TRACE(set.id());
    google::protobuf::RepeatedPtrField<v1::Observation> all;
    for (const v1::Indicator& indicator : set.indicators()) {
      v1::Observation* o = all.Add();
      o->set_indicator_code(indicator.code());
      o->set_observed(true);
    }
    for (bool child : {false, true}) {
      absl::StatusOr<v1::StrengthOfIndication> strength = AssessStrength(set, all, child);
      ASSERT_TRUE(strength.ok()) << strength.status();
      EXPECT_EQ(strength->level(), v1::INDICATION_LEVEL_STRONG);
      EXPECT_EQ(strength->weighed_indicator_codes_size(), set.indicators_size());
    }
  }
}

// ------------------------------------------------------------ validation

v1::IndicatorSet SmallSet() {
  v1::IndicatorSet set;
  set.set_id("test");
  set.set_version(1);
  set.set_title("Test set");
  set.set_source("Written for this test");
  auto add = [&set](const char* code, v1::IndicatorCategory category,
                    v1::IndicatorStrength strength) {
    v1::Indicator* indicator = set.add_indicators();
    indicator->set_code(code);
    indicator->set_text(std::string("Indicator ") + code);
    indicator->set_category(category);
    indicator->set_strength(strength);
  };
  add("A-S", v1::INDICATOR_CATEGORY_ACT, v1::INDICATOR_STRENGTH_STRONG);
  add("A-W", v1::INDICATOR_CATEGORY_ACT, v1::INDICATOR_STRENGTH_WEAK);
  add("M-S", v1::INDICATOR_CATEGORY_MEANS, v1::INDICATOR_STRENGTH_STRONG);
  add("M-M", v1::INDICATOR_CATEGORY_MEANS, v1::INDICATOR_STRENGTH_MEDIUM);
  add("P-S", v1::INDICATOR_CATEGORY_PURPOSE, v1::INDICATOR_STRENGTH_STRONG);
  add("P-W", v1::INDICATOR_CATEGORY_PURPOSE, v1::INDICATOR_STRENGTH_WEAK);
  add("G-M", v1::INDICATOR_CATEGORY_GENERAL, v1::INDICATOR_STRENGTH_MEDIUM);
  add("G-W", v1::INDICATOR_CATEGORY_GENERAL, v1::INDICATOR_STRENGTH_WEAK);
  return set;
}

TEST(ValidateIndicatorSetTest, AcceptsAWellFormedSet) {
  EXPECT_TRUE(ValidateIndicatorSet(SmallSet()).ok());
}

TEST(ValidateIndicatorSetTest, RejectsEachProblemNamingIt) {
  struct Case {
    std::string problem;  // expected in the message
    void (*spoil)(v1::IndicatorSet&);
  };
  const std::vector<Case> cases = {
      {"id is empty", [](v1::IndicatorSet& s) { s.clear_id(); }},
      {"title is empty", [](v1::IndicatorSet& s) { s.clear_title(); }},
      {"source is empty", [](v1::IndicatorSet& s) { s.clear_source(); }},
      {"version is 0", [](v1::IndicatorSet& s) { s.set_version(0); }},
      {"no indicators", [](v1::IndicatorSet& s) { s.clear_indicators(); }},
      {"duplicate code", [](v1::IndicatorSet& s) { s.mutable_indicators(3)->set_code("A-S"); }},
      {"code is empty", [](v1::IndicatorSet& s) { s.mutable_indicators(2)->clear_code(); }},
      {"category is unset",
       [](v1::IndicatorSet& s) { s.mutable_indicators(1)->clear_category(); }},
      {"category is unset or unknown",
       [](v1::IndicatorSet& s) {
         s.mutable_indicators(1)->set_category(static_cast<v1::IndicatorCategory>(9));
       }},
      {"strength is unset",
       [](v1::IndicatorSet& s) { s.mutable_indicators(4)->clear_strength(); }},
      {"text is empty", [](v1::IndicatorSet& s) { s.mutable_indicators(5)->clear_text(); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    v1::IndicatorSet set = SmallSet();
    c.spoil(set);
    const absl::Status status = ValidateIndicatorSet(set);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.problem));
  }
}

TEST(ValidateIndicatorSetTest, DuplicateCodeMessageNamesTheCode) {
  v1::IndicatorSet set = SmallSet();
  set.mutable_indicators(6)->set_code("P-W");
  EXPECT_THAT(std::string(ValidateIndicatorSet(set).message()), HasSubstr("\"P-W\""));
}

// ------------------------------------------------------------ AssessStrength

google::protobuf::RepeatedPtrField<v1::Observation> Observed(
    const std::vector<std::string>& codes, const std::vector<std::string>& not_observed = {},
    const std::string& note = "") {
  google::protobuf::RepeatedPtrField<v1::Observation> observations;
  for (const std::string& code : codes) {
    v1::Observation* o = observations.Add();
    o->set_indicator_code(code);
    o->set_observed(true);
    o->set_note(note);
  }
  for (const std::string& code : not_observed) {
    v1::Observation* o = observations.Add();
    o->set_indicator_code(code);
    o->set_observed(false);
    o->set_note(note);
  }
  return observations;
}

v1::StrengthOfIndication Assess(const google::protobuf::RepeatedPtrField<v1::Observation>& obs,
                                bool child = false) {
  absl::StatusOr<v1::StrengthOfIndication> strength = AssessStrength(SmallSet(), obs, child);
  EXPECT_TRUE(strength.ok()) << strength.status();
  return strength.ok() ? *strength : v1::StrengthOfIndication();
}

TEST(AssessStrengthTest, NoneWhenNothingObserved) {
  EXPECT_EQ(Assess(Observed({})).level(), v1::INDICATION_LEVEL_NONE);
  const v1::StrengthOfIndication none = Assess(Observed({}, {"A-S", "M-S", "P-S"}));
  EXPECT_EQ(none.level(), v1::INDICATION_LEVEL_NONE);
  EXPECT_THAT(none.weighed_indicator_codes(), IsEmpty());
  EXPECT_THAT(none.explanation(), HasSubstr("Missing elements: ACT, MEANS, PURPOSE"));
}

TEST(AssessStrengthTest, WeakWhenAnElementIsMissing) {
  const v1::StrengthOfIndication weak = Assess(Observed({"A-S", "P-S"}, {"M-S"}));
  EXPECT_EQ(weak.level(), v1::INDICATION_LEVEL_WEAK);
  EXPECT_THAT(weak.explanation(), HasSubstr("MEANS: 0 observed"));
  EXPECT_THAT(weak.explanation(), HasSubstr("Missing elements: MEANS."));
}

TEST(AssessStrengthTest, WeakWhenOnlyGeneralIndicatorsObserved) {
  const v1::StrengthOfIndication weak = Assess(Observed({"G-M"}));
  EXPECT_EQ(weak.level(), v1::INDICATION_LEVEL_WEAK);
  EXPECT_THAT(weak.weighed_indicator_codes(), ElementsAre("G-M"));
}

TEST(AssessStrengthTest, ModerateWhenEveryElementShownButNoneStrongly) {
  const v1::StrengthOfIndication moderate = Assess(Observed({"A-W", "M-M", "P-W"}));
  EXPECT_EQ(moderate.level(), v1::INDICATION_LEVEL_MODERATE);
  EXPECT_THAT(moderate.explanation(), HasSubstr("Missing elements: none."));
}

TEST(AssessStrengthTest, ModerateForAdultWithOnlyOneStrongElement) {
  EXPECT_EQ(Assess(Observed({"A-S", "M-M", "P-W"})).level(), v1::INDICATION_LEVEL_MODERATE);
}

TEST(AssessStrengthTest, StrongWhenTwoElementsShownStrongly) {
  const v1::StrengthOfIndication strong = Assess(Observed({"A-W", "M-S", "P-S"}));
  EXPECT_EQ(strong.level(), v1::INDICATION_LEVEL_STRONG);
  EXPECT_THAT(strong.explanation(), HasSubstr("Level STRONG"));
  EXPECT_THAT(strong.explanation(), HasSubstr("MEANS: 1 observed, strongest M-S (strong)"));
}

TEST(AssessStrengthTest, StrongGeneralIndicatorsDoNotMakeAnElementStrong) {
  v1::IndicatorSet set = SmallSet();
  set.mutable_indicators(6)->set_strength(v1::INDICATOR_STRENGTH_STRONG);  // G-M
  absl::StatusOr<v1::StrengthOfIndication> strength =
      AssessStrength(set, Observed({"A-S", "M-M", "P-W", "G-M"}), false);
  ASSERT_TRUE(strength.ok()) << strength.status();
  EXPECT_EQ(strength->level(), v1::INDICATION_LEVEL_MODERATE);
}

TEST(AssessStrengthTest, MeansNeedNotBeShownForAChild) {
  // The same observations, no MEANS among them.
  const auto moderate = Observed({"A-W", "P-W", "G-M"});
  EXPECT_EQ(Assess(moderate, /*child=*/false).level(), v1::INDICATION_LEVEL_WEAK);
  EXPECT_EQ(Assess(moderate, /*child=*/true).level(), v1::INDICATION_LEVEL_MODERATE);

  const auto strong = Observed({"A-W", "P-S"});
  EXPECT_EQ(Assess(strong, /*child=*/false).level(), v1::INDICATION_LEVEL_WEAK);
  const v1::StrengthOfIndication child = Assess(strong, /*child=*/true);
  EXPECT_EQ(child.level(), v1::INDICATION_LEVEL_STRONG);
  EXPECT_THAT(child.explanation(), HasSubstr("means need not be shown"));
  EXPECT_THAT(child.explanation(), HasSubstr("Missing elements: none."));
  EXPECT_THAT(Assess(strong, false).explanation(), Not(HasSubstr("need not be shown")));
}

TEST(AssessStrengthTest, ChildStillNeedsActAndPurpose) {
  const v1::StrengthOfIndication weak = Assess(Observed({"A-S", "M-S"}), /*child=*/true);
  EXPECT_EQ(weak.level(), v1::INDICATION_LEVEL_WEAK);
  EXPECT_THAT(weak.explanation(), HasSubstr("Missing elements: PURPOSE."));
}

TEST(AssessStrengthTest, WeighedCodesStrongestFirstThenByCode) {
  const v1::StrengthOfIndication s =
      Assess(Observed({"P-W", "G-M", "A-W", "M-M", "A-S", "G-W"}, {"M-S", "P-S"}));
  EXPECT_THAT(s.weighed_indicator_codes(), ElementsAre("A-S", "G-M", "M-M", "A-W", "G-W", "P-W"));
  EXPECT_THAT(s.explanation(), HasSubstr("ACT: 2 observed, strongest A-S (strong)"));
  EXPECT_THAT(s.explanation(), HasSubstr("GENERAL: 2 observed, strongest G-M (medium)"));
}

TEST(AssessStrengthTest, RejectsUnknownCodeNamingIt) {
  absl::StatusOr<v1::StrengthOfIndication> s =
      AssessStrength(SmallSet(), Observed({"A-S", "XX-99"}), false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("\"XX-99\""));
}

TEST(AssessStrengthTest, RejectsUnknownCodeEvenWhenNotObserved) {
  EXPECT_EQ(AssessStrength(SmallSet(), Observed({}, {"XX-99"}), false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AssessStrengthTest, RejectsCodeCitedTwice) {
  absl::StatusOr<v1::StrengthOfIndication> s =
      AssessStrength(SmallSet(), Observed({"A-S", "M-M"}, {"A-S"}), false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("\"A-S\""));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("twice"));
}

TEST(AssessStrengthTest, RejectsInvalidSet) {
  v1::IndicatorSet set = SmallSet();
  set.set_version(0);
  EXPECT_EQ(AssessStrength(set, Observed({"A-S"}), false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AssessStrengthTest, ExplanationAndErrorsNeverCarryNotes) {
  const std::string kCanary = "CANARY-3f9e Ana Lopez, 12 Elm Street";
  for (bool child : {false, true}) {
    for (const auto& obs : {Observed({}, {"A-S"}, kCanary), Observed({"G-W"}, {}, kCanary),
                            Observed({"A-W", "P-W"}, {"M-S"}, kCanary),
                            Observed({"A-S", "M-S", "P-S", "G-M"}, {}, kCanary)}) {
      const v1::StrengthOfIndication s = Assess(obs, child);
      EXPECT_THAT(s.explanation(), Not(HasSubstr("CANARY")));
      EXPECT_THAT(s.explanation(), Not(HasSubstr("Elm Street")));
      for (const std::string& code : s.weighed_indicator_codes()) {
        EXPECT_THAT(code, Not(HasSubstr("CANARY")));
      }
    }
  }
  absl::StatusOr<v1::StrengthOfIndication> bad =
      AssessStrength(SmallSet(), Observed({"A-S", "A-S"}, {}, kCanary), false);
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("CANARY")));
}

TEST(AssessStrengthTest, LongUnknownCodeIsShortenedAndEscapedInTheError) {
  const std::string code = std::string(200, 'Z') + "\n";
  absl::StatusOr<v1::StrengthOfIndication> s =
      AssessStrength(SmallSet(), Observed({code}), false);
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.status().message().size(), 150u);
  EXPECT_THAT(std::string(s.status().message()), Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace haven::identification
