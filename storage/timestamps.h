// Timestamps: conversions between google.protobuf.Timestamp, absl::Time and
// the microseconds since the epoch that records store.
#ifndef HAVEN_STORAGE_TIMESTAMPS_H_
#define HAVEN_STORAGE_TIMESTAMPS_H_

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace haven {

inline google::protobuf::Timestamp MicrosToTimestamp(int64_t micros) {
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1'000'000);
  t.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  return t;
}

inline google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return MicrosToTimestamp(absl::ToUnixMicros(time));
}

inline int64_t TimestampToMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1'000'000 + t.nanos() / 1000;
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimestampToMicros(t));
}

}  // namespace haven

#endif  // HAVEN_STORAGE_TIMESTAMPS_H_
