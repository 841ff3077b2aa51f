// Partners: the partner mechanisms in other countries from havend's
// configuration, their CA certificates, and how a caller's certificate is
// recognised as one of them.
#ifndef HAVEN_SERVICES_COMMON_PARTNERS_H_
#define HAVEN_SERVICES_COMMON_PARTNERS_H_

#include <grpcpp/security/auth_context.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "haven/v1/config.pb.h"

namespace haven::services {

// Lower-case hex SHA-256 of a PEM certificate's DER SubjectPublicKeyInfo:
// what PartnerConfig.public_key_sha256 pins. Empty when it cannot be read.
std::string PublicKeySha256FromPem(absl::string_view pem);

class Partners {
 public:
  // Reads every partner's CA file; FAILED_PRECONDITION naming one that
  // cannot be read or holds no certificate.
  static absl::StatusOr<std::unique_ptr<Partners>> Load(
      const google::protobuf::RepeatedPtrField<haven::v1::PartnerConfig>& configs);
  ~Partners();

  // nullptr when no partner has this id.
  const haven::v1::PartnerConfig* Find(absl::string_view id) const;
  const std::vector<haven::v1::PartnerConfig>& all() const { return configs_; }
  // The partner's CA certificate, PEM.
  const std::string& CaPem(absl::string_view id) const;
  // Every partner's CA certificate, PEM, for the mTLS listener's roots.
  std::string AllCaPem() const;

  // The partner whose CA signed the peer certificate of a call on the
  // mTLS listener; UNAUTHENTICATED when it is none of them.
  absl::StatusOr<std::string> Identify(const grpc::AuthContext& auth) const;

 private:
  struct Trust;
  Partners() = default;
  std::vector<haven::v1::PartnerConfig> configs_;
  std::vector<std::string> ca_pems_;
  std::vector<std::unique_ptr<Trust>> trusts_;
};

}  // namespace haven::services

#endif  // HAVEN_SERVICES_COMMON_PARTNERS_H_
