// Config: havend's configuration file (text-format haven.v1.ServerConfig),
// read, defaulted and checked.
#ifndef HAVEN_SERVICES_SERVER_CONFIG_H_
#define HAVEN_SERVICES_SERVER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "haven/v1/config.pb.h"

namespace haven::server {

// Reads `path`; relative file names in it are taken relative to the
// directory of `path`. INVALID_ARGUMENT says which setting is wrong.
absl::StatusOr<haven::v1::ServerConfig> LoadConfig(const std::string& path);

// Fills defaults and checks a config however it was made.
absl::StatusOr<haven::v1::ServerConfig> Finish(haven::v1::ServerConfig config);

bool IsLoopbackAddress(const std::string& address);

}  // namespace haven::server

#endif  // HAVEN_SERVICES_SERVER_CONFIG_H_
