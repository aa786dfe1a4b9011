// SPDX-License-Identifier: BSD-3-Clause
// RAII ownership of PETSc objects (Vec, Mat, KSP, MatNullSpace): destroyed with their *Destroy.
#pragma once

#include <petscksp.h>

#include <cstdio>

#include "petsc/petsc_call.hpp"

namespace parot::petsc {

template <class T, PetscErrorCode (*Destroy)(T*)>
class Ptr {
 public:
  Ptr() = default;
  ~Ptr() { reset(); }
  Ptr(const Ptr&) = delete;
  Ptr& operator=(const Ptr&) = delete;
  Ptr(Ptr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Ptr& operator=(Ptr&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  /// Destroying is collective on the object's communicator (style.md E6): every rank unwinds
  /// the same path because errors are collective or fatal.
  void reset() {
    if (p_) Destroy(&p_);
    p_ = nullptr;
  }
  T get() const noexcept { return p_; }
  T* out() noexcept {
    reset();
    return &p_;
  }

 private:
  T p_ = nullptr;
};

using VecPtr = Ptr<Vec, VecDestroy>;
using MatPtr = Ptr<Mat, MatDestroy>;
using KspPtr = Ptr<KSP, KSPDestroy>;
using NullSpacePtr = Ptr<MatNullSpace, MatNullSpaceDestroy>;

/// Scoped VecGetArray / VecRestoreArray. A failed VecGetArray throws (PetscCallError, this
/// rank's); a failed VecRestoreArray, which cannot throw from a destructor, is reported on
/// stderr with PETSc's code.
class VecArray {
 public:
  explicit VecArray(Vec v) : v_(v) { PAROT_PETSC_CALL(VecGetArray(v_, &a_)); }
  ~VecArray() {
    const PetscErrorCode code = VecRestoreArray(v_, &a_);
    if (code) std::fprintf(stderr, "parot: VecRestoreArray failed (PETSc error %d)\n", int(code));
  }
  VecArray(const VecArray&) = delete;
  VecArray& operator=(const VecArray&) = delete;
  PetscScalar* data() noexcept { return a_; }
  PetscScalar& operator[](PetscInt i) noexcept { return a_[i]; }

 private:
  Vec v_;
  PetscScalar* a_ = nullptr;
};

}  // namespace parot::petsc
