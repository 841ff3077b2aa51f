// Joint: a passage's transaction as another door's passage may join it, so
// that both are written when the first commits, or neither. Opaque:
// services can hand it on, never use it.
#ifndef HAVEN_STORAGE_ACCESS_JOINT_H_
#define HAVEN_STORAGE_ACCESS_JOINT_H_

namespace haven::storage {
class Txn;
}  // namespace haven::storage

namespace haven::access {

class Joint {
 private:
  friend class CaseDoor;
  friend class CaseScope;
  friend class ContactScope;
  explicit Joint(storage::Txn* txn) : txn_(txn) {}
  storage::Txn* txn_;
};

}  // namespace haven::access

#endif  // HAVEN_STORAGE_ACCESS_JOINT_H_
