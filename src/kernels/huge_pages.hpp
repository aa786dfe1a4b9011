// SPDX-License-Identifier: BSD-3-Clause
// Large scratch buffers backed by transparent huge pages (issue 16). On the VMs parot runs on, a
// first touch costs a page fault per 4 KiB page (measured: 0.38 s for 64 MiB, against 0.01 s with
// huge pages), which was a fifth of the sliced run at 10^6 points. No MPI.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>

namespace parot::kernels {

constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

/// Asks Linux to back the 2 MiB-aligned part of [p, p + bytes) with transparent huge pages
/// (madvise(MADV_HUGEPAGE)). Only a hint: no effect where THP is off or unsupported.
inline void advise_huge_pages(void* p, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  const auto first =
      (reinterpret_cast<std::uintptr_t>(p) + huge_page_bytes - 1) & ~(huge_page_bytes - 1);
  const auto last = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(huge_page_bytes - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/// An uninitialized array of n trivially copyable T, 2 MiB aligned and advised huge pages when
/// it spans at least one huge page.
template <class T>
class HugeBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  HugeBuffer() = default;
  explicit HugeBuffer(std::size_t n) { resize(n); }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  HugeBuffer(HugeBuffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  HugeBuffer& operator=(HugeBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~HugeBuffer() { std::free(data_); }

  /// Discards the contents and holds n uninitialized elements.
  void resize(std::size_t n) {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    if (n == 0) return;
    const std::size_t bytes = n * sizeof(T);
    const bool huge = bytes >= huge_page_bytes;
    const std::size_t align = huge ? huge_page_bytes : alignof(std::max_align_t);
    void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
    if (p == nullptr) throw std::bad_alloc();
    if (huge) advise_huge_pages(p, bytes);
    data_ = static_cast<T*>(p);
    size_ = n;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace parot::kernels
