// Data movement: transpose, slice, pad, concat, scatterAdd (gather and oneHot measured no faster than
// @axon/kernels-js at the seed models' sizes: js serves them).
#include <algorithm>
#include <numeric>

#include "common.h"
#include "kernels.h"
#include "pool.h"

namespace axon {

namespace {

// Copies rows of `run` contiguous floats: for every index tuple i over
// `dims`, dst[dstBase + i·dstStrides] <- src[srcBase + i·srcStrides].
void copyRows(const float* src, const std::vector<int64_t>& srcStrides, float* dst,
              const std::vector<int64_t>& dstStrides, const std::vector<int64_t>& dims, int64_t run) {
  int64_t rows = 1;
  for (int64_t d : dims) rows *= d;
  if (rows == 0 || run == 0) return;
  const size_t r = dims.size();
  parallelFor(rows, run, [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> idx(r, 0);
    int64_t so = 0, dof = 0, rem = lo;
    for (size_t d = r; d-- > 0;) {
      idx[d] = rem % dims[d];
      rem /= dims[d];
      so += idx[d] * srcStrides[d];
      dof += idx[d] * dstStrides[d];
    }
    for (int64_t row = lo; row < hi; ++row) {
      std::memcpy(dst + dof, src + so, sizeof(float) * run);
      for (size_t d = r; d-- > 0;) {
        ++idx[d];
        so += srcStrides[d];
        dof += dstStrides[d];
        if (idx[d] < dims[d] || d == 0) break;
        so -= dims[d] * srcStrides[d];
        dof -= dims[d] * dstStrides[d];
        idx[d] = 0;
      }
    }
  });
}

constexpr int64_t kTile = 32;

}  // namespace

// transpose(x, shape, perm, out): out axis i is x axis perm[i].
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Args args(info, "transpose", 4);
  F32 x = args.f32(0, "x"), out = args.f32(3, "out");
  const auto shape = args.dims(1, "shape"), perm = args.dims(2, "perm");
  const size_t rank = shape.size();
  if (perm.size() != rank) {
    args.fail("perm " + shapeString(perm) + " must have one entry per axis of shape " + shapeString(shape));
  }
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p >= int64_t(rank) || seen[p]) args.fail("perm " + shapeString(perm) + " is not a permutation of 0.." + std::to_string(rank - 1));
    seen[p] = true;
  }
  const int64_t total = shapeSize(args, shape, "shape");
  args.exactly(x, "x", total, "shape " + shapeString(shape));
  args.exactly(out, "out", total, "shape " + shapeString(shape));
  args.settle();  // no JS runs from here on
  if (total == 0) return info.Env().Undefined();

  // Output axes with their input strides; drop size-1 axes, merge axes that
  // stay adjacent in the input.
  const auto xs = stridesOf(shape);
  std::vector<int64_t> dims, inStr;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t d = shape[perm[i]], s = xs[perm[i]];
    if (d == 1) continue;
    if (!dims.empty() && inStr.back() == s * d) {
      dims.back() *= d;
      inStr.back() = s;
    } else {
      dims.push_back(d);
      inStr.push_back(s);
    }
  }
  const float* src = x.data;
  float* dst = out.data;
  if (dims.size() <= 1 || inStr.back() == 1) {
    // Rows stay contiguous: a row copy.
    if (dims.empty()) dims.push_back(1), inStr.push_back(1);
    const int64_t run = dims.back();
    std::vector<int64_t> rowDims(dims.begin(), dims.end() - 1), rowIn(inStr.begin(), inStr.end() - 1);
    std::vector<int64_t> outStr = stridesOf(dims);
    outStr.pop_back();
    copyRows(src, rowIn, dst, outStr, rowDims, run);
    return info.Env().Undefined();
  }
  // A real transpose of the last output axis L: tile it against the output
  // axis J whose input stride is 1, so reads and writes both stay in cache.
  const size_t r = dims.size(), L = r - 1;
  const auto outStr = stridesOf(dims);
  const size_t J = std::find(inStr.begin(), inStr.end(), 1) - inStr.begin();
  std::vector<size_t> others;
  for (size_t i = 0; i < r; ++i)
    if (i != L && i != J) others.push_back(i);
  int64_t otherCount = 1;
  for (size_t i : others) otherCount *= dims[i];
  const int64_t nJ = dims[J], nL = dims[L], sL = inStr[L], oJ = outStr[J];
  const int64_t jTiles = (nJ + kTile - 1) / kTile;
  parallelFor(otherCount * jTiles, kTile * nL, [&](int64_t lo, int64_t hi) {
    for (int64_t item = lo; item < hi; ++item) {
      int64_t rem = item / jTiles, inBase = 0, outBase = 0;
      for (size_t k = others.size(); k-- > 0;) {
        const size_t ax = others[k];
        const int64_t i = rem % dims[ax];
        rem /= dims[ax];
        inBase += i * inStr[ax];
        outBase += i * outStr[ax];
      }
      const int64_t j0 = (item % jTiles) * kTile, j1 = std::min(nJ, j0 + kTile);
      for (int64_t l0 = 0; l0 < nL; l0 += kTile) {
        const int64_t l1 = std::min(nL, l0 + kTile);
        for (int64_t j = j0; j < j1; ++j) {
          const float* s = src + inBase + j;
          float* d = dst + outBase + j * oJ;
          for (int64_t l = l0; l < l1; ++l) d[l] = s[l * sL];
        }
      }
    }
  });
  return info.Env().Undefined();
}

// slice(x, shape, begin, size, out)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  Args args(info, "slice", 5);
  F32 x = args.f32(0, "x"), out = args.f32(4, "out");
  const auto shape = args.dims(1, "shape"), begin = args.dims(2, "begin"), size = args.dims(3, "size");
  if (begin.size() != shape.size() || size.size() != shape.size()) {
    args.fail("begin " + shapeString(begin) + " and size " + shapeString(size) + " must have the rank of shape " +
              shapeString(shape));
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (begin[d] + size[d] > shape[d]) {
      args.fail("begin " + shapeString(begin) + " + size " + shapeString(size) + " exceeds shape " +
                shapeString(shape) + " on axis " + std::to_string(d));
    }
  }
  args.exactly(x, "x", shapeSize(args, shape, "shape"), "shape " + shapeString(shape));
  const int64_t total = shapeSize(args, size, "size");
  args.exactly(out, "out", total, "size " + shapeString(size));
  args.settle();  // no JS runs from here on
  if (total == 0) return info.Env().Undefined();
  if (shape.empty()) {
    out.data[0] = x.data[0];
    return info.Env().Undefined();
  }
  const auto xs = stridesOf(shape), os = stridesOf(size);
  int64_t base = 0;
  for (size_t d = 0; d < shape.size(); ++d) base += begin[d] * xs[d];
  std::vector<int64_t> dims(size.begin(), size.end() - 1), srcStr(xs.begin(), xs.end() - 1), dstStr(os.begin(), os.end() - 1);
  copyRows(x.data + base, srcStr, out.data, dstStr, dims, size.back());
  return info.Env().Undefined();
}

// pad(x, shape, padBefore, padAfter, value, out)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  Args args(info, "pad", 6);
  F32 x = args.f32(0, "x"), out = args.f32(5, "out");
  const auto shape = args.dims(1, "shape"), before = args.dims(2, "padBefore"), after = args.dims(3, "padAfter");
  const float value = static_cast<float>(args.number(4, "value"));
  if (before.size() != shape.size() || after.size() != shape.size()) {
    args.fail("padBefore " + shapeString(before) + " and padAfter " + shapeString(after) +
              " must have the rank of shape " + shapeString(shape));
  }
  std::vector<int64_t> outShape(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) outShape[d] = shape[d] + before[d] + after[d];
  args.exactly(x, "x", shapeSize(args, shape, "shape"), "shape " + shapeString(shape));
  const int64_t total = shapeSize(args, outShape, "padded shape");
  args.exactly(out, "out", total, "padded shape " + shapeString(outShape));
  args.settle();  // no JS runs from here on
  float* dst = out.data;
  parallelFor(total, 1, [&](int64_t lo, int64_t hi) { std::fill(dst + lo, dst + hi, value); });
  if (shapeSize(args, shape, "shape") == 0) return info.Env().Undefined();
  if (shape.empty()) {
    dst[0] = x.data[0];
    return info.Env().Undefined();
  }
  const auto xs = stridesOf(shape), os = stridesOf(outShape);
  int64_t base = 0;
  for (size_t d = 0; d < shape.size(); ++d) base += before[d] * os[d];
  std::vector<int64_t> dims(shape.begin(), shape.end() - 1), srcStr(xs.begin(), xs.end() - 1), dstStr(os.begin(), os.end() - 1);
  copyRows(x.data, srcStr, dst + base, dstStr, dims, shape.back());
  return info.Env().Undefined();
}

// concat(inputs, sizes, outer, inner, out)
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Args args(info, "concat", 5);
  Napi::Array list = args.array(0, "inputs");
  const auto sizes = args.counts(1, "sizes");  // one per input: any number of parts
  const int64_t outer = args.dim(2, "outer"), inner = args.dim(3, "inner");
  F32 out = args.f32(4, "out");
  if (list.Length() != sizes.size()) {
    args.fail("inputs has " + std::to_string(list.Length()) + " arrays but sizes has " + std::to_string(sizes.size()));
  }
  std::vector<const float*> ptrs(sizes.size());
  std::vector<int64_t> offsets(sizes.size());
  int64_t totalSize = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    Napi::Value v = list.Get(uint32_t(i));
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      args.typeFail("inputs[" + std::to_string(i) + "] must be a Float32Array");
    }
    auto arr = v.As<Napi::Float32Array>();
    const int64_t need = args.mul(args.mul(outer, sizes[i], "outer*size"), inner, "outer*size*inner");
    if (int64_t(arr.ElementLength()) != need) {
      args.fail("inputs[" + std::to_string(i) + "] has " + std::to_string(arr.ElementLength()) +
                " elements, expected " + std::to_string(need) + " (outer=" + std::to_string(outer) +
                ", sizes[" + std::to_string(i) + "]=" + std::to_string(sizes[i]) + ", inner=" + std::to_string(inner) + ")");
    }
    ptrs[i] = arr.Data();
    args.track(v, ptrs[i], need);
    offsets[i] = totalSize;
    totalSize += sizes[i];
  }
  const int64_t rowLen = args.mul(totalSize, inner, "sum(sizes)*inner");
  args.exactly(out, "out", args.mul(outer, rowLen, "outer*sum(sizes)*inner"),
               "outer=" + std::to_string(outer) + ", sum(sizes)=" + std::to_string(totalSize) + ", inner=" + std::to_string(inner));
  args.settle();  // no JS runs from here on
  float* dst = out.data;
  parallelFor(outer, rowLen, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o)
      for (size_t i = 0; i < sizes.size(); ++i) {
        const int64_t n = sizes[i] * inner;
        if (n) std::memcpy(dst + o * rowLen + offsets[i] * inner, ptrs[i] + o * n, sizeof(float) * n);
      }
  });
  return info.Env().Undefined();
}

namespace {
void checkIndices(const Args& args, const I32& indices, int64_t size) {
  for (int64_t j = 0; j < indices.size; ++j) {
    const int32_t v = indices.data[j];
    if (v < 0 || v >= size) {
      throw Napi::RangeError::New(args.env(), std::string(args.kernel()) + ": index " + std::to_string(v) +
                                                  " at position " + std::to_string(j) + " is out of range [0, " +
                                                  std::to_string(size) + ")");
    }
  }
}
}  // namespace

// scatterAdd(dy, indices, dx, outer, size, inner): dx[o, indices[j], r] += dy[o, j, r]
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  Args args(info, "scatterAdd", 6);
  F32 dy = args.f32(0, "dy"), dx = args.f32(2, "dx");
  I32 idx = args.i32(1, "indices");
  const int64_t outer = args.dim(3, "outer"), size = args.dim(4, "size"), inner = args.dim(5, "inner");
  const std::string geo = "outer=" + std::to_string(outer) + ", size=" + std::to_string(size) +
                          ", inner=" + std::to_string(inner) + ", indices=" + std::to_string(idx.size);
  args.exactly(dy, "dy", args.mul(args.mul(outer, idx.size, "outer*indices"), inner, "outer*indices*inner"), geo);
  args.exactly(dx, "dx", args.mul(args.mul(outer, size, "outer*size"), inner, "outer*size*inner"), geo);
  checkIndices(args, idx, size);
  const int64_t n = idx.size;
  if (n == 0 || inner == 0) return info.Env().Undefined();
  // Work items (o, block of r) touch disjoint parts of dx, so they run in parallel
  // even when indices repeat; each item accumulates in index order.
  const int64_t block = 1024, blocks = (inner + block - 1) / block;
  const float* g = dy.data;
  const int32_t* ip = idx.data;
  float* acc = dx.data;
  parallelFor(outer * blocks, n * std::min(inner, block), [&](int64_t lo, int64_t hi) {
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t o = item / blocks, r0 = (item % blocks) * block, r1 = std::min(inner, r0 + block);
      for (int64_t j = 0; j < n; ++j) {
        const float* s = g + (o * n + j) * inner;
        float* d = acc + (o * size + ip[j]) * inner;
        for (int64_t r = r0; r < r1; ++r) d[r] += s[r];
      }
    }
  });
  return info.Env().Undefined();
}

AXON_KERNEL("transpose", Transpose);
AXON_KERNEL("slice", Slice);
AXON_KERNEL("pad", Pad);
AXON_KERNEL("concat", Concat);
AXON_KERNEL("scatterAdd", ScatterAdd);

}  // namespace axon
