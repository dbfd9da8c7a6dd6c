// bench/idl/hundred_fill.h: sets and reads every field of
// ringcast_bench.Hundred, through the flat types and through protobuf, with
// the same values. Written by a one-off script from hundred.proto (field i
// has kind i % 8: int32 int64 uint32 double float bool string repeated float).
#ifndef RINGCAST_BENCH_IDL_HUNDRED_FILL_H_
#define RINGCAST_BENCH_IDL_HUNDRED_FILL_H_

#include "ringcast_bench/hundred.ringcast.h"

namespace ringcast::bench {

inline bool FillFlat(ringcast_bench::flat::HundredBuilder& b) {
  b.set_f1(-1);
  b.set_f2(200000000000LL);
  b.set_f3(3u);
  b.set_f4(4.25);
  b.set_f5(5.5f);
  b.set_f6(true);
  if (!b.set_f7("field 7 text").ok()) return false;
  {
    const float v[] = {8.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f8(v).ok()) return false;
  }
  b.set_f9(-9);
  b.set_f10(1000000000000LL);
  b.set_f11(11u);
  b.set_f12(12.25);
  b.set_f13(13.5f);
  b.set_f14(true);
  if (!b.set_f15("field 15 text").ok()) return false;
  {
    const float v[] = {16.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f16(v).ok()) return false;
  }
  b.set_f17(-17);
  b.set_f18(1800000000000LL);
  b.set_f19(19u);
  b.set_f20(20.25);
  b.set_f21(21.5f);
  b.set_f22(true);
  if (!b.set_f23("field 23 text").ok()) return false;
  {
    const float v[] = {24.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f24(v).ok()) return false;
  }
  b.set_f25(-25);
  b.set_f26(2600000000000LL);
  b.set_f27(27u);
  b.set_f28(28.25);
  b.set_f29(29.5f);
  b.set_f30(true);
  if (!b.set_f31("field 31 text").ok()) return false;
  {
    const float v[] = {32.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f32(v).ok()) return false;
  }
  b.set_f33(-33);
  b.set_f34(3400000000000LL);
  b.set_f35(35u);
  b.set_f36(36.25);
  b.set_f37(37.5f);
  b.set_f38(true);
  if (!b.set_f39("field 39 text").ok()) return false;
  {
    const float v[] = {40.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f40(v).ok()) return false;
  }
  b.set_f41(-41);
  b.set_f42(4200000000000LL);
  b.set_f43(43u);
  b.set_f44(44.25);
  b.set_f45(45.5f);
  b.set_f46(true);
  if (!b.set_f47("field 47 text").ok()) return false;
  {
    const float v[] = {48.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f48(v).ok()) return false;
  }
  b.set_f49(-49);
  b.set_f50(5000000000000LL);
  b.set_f51(51u);
  b.set_f52(52.25);
  b.set_f53(53.5f);
  b.set_f54(true);
  if (!b.set_f55("field 55 text").ok()) return false;
  {
    const float v[] = {56.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f56(v).ok()) return false;
  }
  b.set_f57(-57);
  b.set_f58(5800000000000LL);
  b.set_f59(59u);
  b.set_f60(60.25);
  b.set_f61(61.5f);
  b.set_f62(true);
  if (!b.set_f63("field 63 text").ok()) return false;
  {
    const float v[] = {64.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f64(v).ok()) return false;
  }
  b.set_f65(-65);
  b.set_f66(6600000000000LL);
  b.set_f67(67u);
  b.set_f68(68.25);
  b.set_f69(69.5f);
  b.set_f70(true);
  if (!b.set_f71("field 71 text").ok()) return false;
  {
    const float v[] = {72.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f72(v).ok()) return false;
  }
  b.set_f73(-73);
  b.set_f74(7400000000000LL);
  b.set_f75(75u);
  b.set_f76(76.25);
  b.set_f77(77.5f);
  b.set_f78(true);
  if (!b.set_f79("field 79 text").ok()) return false;
  {
    const float v[] = {80.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f80(v).ok()) return false;
  }
  b.set_f81(-81);
  b.set_f82(8200000000000LL);
  b.set_f83(83u);
  b.set_f84(84.25);
  b.set_f85(85.5f);
  b.set_f86(true);
  if (!b.set_f87("field 87 text").ok()) return false;
  {
    const float v[] = {88.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f88(v).ok()) return false;
  }
  b.set_f89(-89);
  b.set_f90(9000000000000LL);
  b.set_f91(91u);
  b.set_f92(92.25);
  b.set_f93(93.5f);
  b.set_f94(true);
  if (!b.set_f95("field 95 text").ok()) return false;
  {
    const float v[] = {96.0f, 1.0f, 2.0f, 3.0f};
    if (!b.set_f96(v).ok()) return false;
  }
  b.set_f97(-97);
  b.set_f98(9800000000000LL);
  b.set_f99(99u);
  b.set_f100(100.25);
  return true;
}

inline void FillProto(ringcast_bench::Hundred* p) {
  p->set_f1(-1);
  p->set_f2(200000000000LL);
  p->set_f3(3u);
  p->set_f4(4.25);
  p->set_f5(5.5f);
  p->set_f6(true);
  p->set_f7("field 7 text");
  for (const float x : {8.0f, 1.0f, 2.0f, 3.0f}) p->add_f8(x);
  p->set_f9(-9);
  p->set_f10(1000000000000LL);
  p->set_f11(11u);
  p->set_f12(12.25);
  p->set_f13(13.5f);
  p->set_f14(true);
  p->set_f15("field 15 text");
  for (const float x : {16.0f, 1.0f, 2.0f, 3.0f}) p->add_f16(x);
  p->set_f17(-17);
  p->set_f18(1800000000000LL);
  p->set_f19(19u);
  p->set_f20(20.25);
  p->set_f21(21.5f);
  p->set_f22(true);
  p->set_f23("field 23 text");
  for (const float x : {24.0f, 1.0f, 2.0f, 3.0f}) p->add_f24(x);
  p->set_f25(-25);
  p->set_f26(2600000000000LL);
  p->set_f27(27u);
  p->set_f28(28.25);
  p->set_f29(29.5f);
  p->set_f30(true);
  p->set_f31("field 31 text");
  for (const float x : {32.0f, 1.0f, 2.0f, 3.0f}) p->add_f32(x);
  p->set_f33(-33);
  p->set_f34(3400000000000LL);
  p->set_f35(35u);
  p->set_f36(36.25);
  p->set_f37(37.5f);
  p->set_f38(true);
  p->set_f39("field 39 text");
  for (const float x : {40.0f, 1.0f, 2.0f, 3.0f}) p->add_f40(x);
  p->set_f41(-41);
  p->set_f42(4200000000000LL);
  p->set_f43(43u);
  p->set_f44(44.25);
  p->set_f45(45.5f);
  p->set_f46(true);
  p->set_f47("field 47 text");
  for (const float x : {48.0f, 1.0f, 2.0f, 3.0f}) p->add_f48(x);
  p->set_f49(-49);
  p->set_f50(5000000000000LL);
  p->set_f51(51u);
  p->set_f52(52.25);
  p->set_f53(53.5f);
  p->set_f54(true);
  p->set_f55("field 55 text");
  for (const float x : {56.0f, 1.0f, 2.0f, 3.0f}) p->add_f56(x);
  p->set_f57(-57);
  p->set_f58(5800000000000LL);
  p->set_f59(59u);
  p->set_f60(60.25);
  p->set_f61(61.5f);
  p->set_f62(true);
  p->set_f63("field 63 text");
  for (const float x : {64.0f, 1.0f, 2.0f, 3.0f}) p->add_f64(x);
  p->set_f65(-65);
  p->set_f66(6600000000000LL);
  p->set_f67(67u);
  p->set_f68(68.25);
  p->set_f69(69.5f);
  p->set_f70(true);
  p->set_f71("field 71 text");
  for (const float x : {72.0f, 1.0f, 2.0f, 3.0f}) p->add_f72(x);
  p->set_f73(-73);
  p->set_f74(7400000000000LL);
  p->set_f75(75u);
  p->set_f76(76.25);
  p->set_f77(77.5f);
  p->set_f78(true);
  p->set_f79("field 79 text");
  for (const float x : {80.0f, 1.0f, 2.0f, 3.0f}) p->add_f80(x);
  p->set_f81(-81);
  p->set_f82(8200000000000LL);
  p->set_f83(83u);
  p->set_f84(84.25);
  p->set_f85(85.5f);
  p->set_f86(true);
  p->set_f87("field 87 text");
  for (const float x : {88.0f, 1.0f, 2.0f, 3.0f}) p->add_f88(x);
  p->set_f89(-89);
  p->set_f90(9000000000000LL);
  p->set_f91(91u);
  p->set_f92(92.25);
  p->set_f93(93.5f);
  p->set_f94(true);
  p->set_f95("field 95 text");
  for (const float x : {96.0f, 1.0f, 2.0f, 3.0f}) p->add_f96(x);
  p->set_f97(-97);
  p->set_f98(9800000000000LL);
  p->set_f99(99u);
  p->set_f100(100.25);
}

inline double ReadFlat(const ringcast_bench::flat::HundredView& v) {
  double s = 0;
  s += static_cast<double>(v.f1());
  s += static_cast<double>(v.f2());
  s += static_cast<double>(v.f3());
  s += static_cast<double>(v.f4());
  s += static_cast<double>(v.f5());
  s += static_cast<double>(v.f6());
  s += static_cast<double>(v.f7().size());
  for (const float x : v.f8()) s += x;
  s += static_cast<double>(v.f9());
  s += static_cast<double>(v.f10());
  s += static_cast<double>(v.f11());
  s += static_cast<double>(v.f12());
  s += static_cast<double>(v.f13());
  s += static_cast<double>(v.f14());
  s += static_cast<double>(v.f15().size());
  for (const float x : v.f16()) s += x;
  s += static_cast<double>(v.f17());
  s += static_cast<double>(v.f18());
  s += static_cast<double>(v.f19());
  s += static_cast<double>(v.f20());
  s += static_cast<double>(v.f21());
  s += static_cast<double>(v.f22());
  s += static_cast<double>(v.f23().size());
  for (const float x : v.f24()) s += x;
  s += static_cast<double>(v.f25());
  s += static_cast<double>(v.f26());
  s += static_cast<double>(v.f27());
  s += static_cast<double>(v.f28());
  s += static_cast<double>(v.f29());
  s += static_cast<double>(v.f30());
  s += static_cast<double>(v.f31().size());
  for (const float x : v.f32()) s += x;
  s += static_cast<double>(v.f33());
  s += static_cast<double>(v.f34());
  s += static_cast<double>(v.f35());
  s += static_cast<double>(v.f36());
  s += static_cast<double>(v.f37());
  s += static_cast<double>(v.f38());
  s += static_cast<double>(v.f39().size());
  for (const float x : v.f40()) s += x;
  s += static_cast<double>(v.f41());
  s += static_cast<double>(v.f42());
  s += static_cast<double>(v.f43());
  s += static_cast<double>(v.f44());
  s += static_cast<double>(v.f45());
  s += static_cast<double>(v.f46());
  s += static_cast<double>(v.f47().size());
  for (const float x : v.f48()) s += x;
  s += static_cast<double>(v.f49());
  s += static_cast<double>(v.f50());
  s += static_cast<double>(v.f51());
  s += static_cast<double>(v.f52());
  s += static_cast<double>(v.f53());
  s += static_cast<double>(v.f54());
  s += static_cast<double>(v.f55().size());
  for (const float x : v.f56()) s += x;
  s += static_cast<double>(v.f57());
  s += static_cast<double>(v.f58());
  s += static_cast<double>(v.f59());
  s += static_cast<double>(v.f60());
  s += static_cast<double>(v.f61());
  s += static_cast<double>(v.f62());
  s += static_cast<double>(v.f63().size());
  for (const float x : v.f64()) s += x;
  s += static_cast<double>(v.f65());
  s += static_cast<double>(v.f66());
  s += static_cast<double>(v.f67());
  s += static_cast<double>(v.f68());
  s += static_cast<double>(v.f69());
  s += static_cast<double>(v.f70());
  s += static_cast<double>(v.f71().size());
  for (const float x : v.f72()) s += x;
  s += static_cast<double>(v.f73());
  s += static_cast<double>(v.f74());
  s += static_cast<double>(v.f75());
  s += static_cast<double>(v.f76());
  s += static_cast<double>(v.f77());
  s += static_cast<double>(v.f78());
  s += static_cast<double>(v.f79().size());
  for (const float x : v.f80()) s += x;
  s += static_cast<double>(v.f81());
  s += static_cast<double>(v.f82());
  s += static_cast<double>(v.f83());
  s += static_cast<double>(v.f84());
  s += static_cast<double>(v.f85());
  s += static_cast<double>(v.f86());
  s += static_cast<double>(v.f87().size());
  for (const float x : v.f88()) s += x;
  s += static_cast<double>(v.f89());
  s += static_cast<double>(v.f90());
  s += static_cast<double>(v.f91());
  s += static_cast<double>(v.f92());
  s += static_cast<double>(v.f93());
  s += static_cast<double>(v.f94());
  s += static_cast<double>(v.f95().size());
  for (const float x : v.f96()) s += x;
  s += static_cast<double>(v.f97());
  s += static_cast<double>(v.f98());
  s += static_cast<double>(v.f99());
  s += static_cast<double>(v.f100());
  return s;
}

inline double ReadProto(const ringcast_bench::Hundred& p) {
  double s = 0;
  s += static_cast<double>(p.f1());
  s += static_cast<double>(p.f2());
  s += static_cast<double>(p.f3());
  s += static_cast<double>(p.f4());
  s += static_cast<double>(p.f5());
  s += static_cast<double>(p.f6());
  s += static_cast<double>(p.f7().size());
  for (const float x : p.f8()) s += x;
  s += static_cast<double>(p.f9());
  s += static_cast<double>(p.f10());
  s += static_cast<double>(p.f11());
  s += static_cast<double>(p.f12());
  s += static_cast<double>(p.f13());
  s += static_cast<double>(p.f14());
  s += static_cast<double>(p.f15().size());
  for (const float x : p.f16()) s += x;
  s += static_cast<double>(p.f17());
  s += static_cast<double>(p.f18());
  s += static_cast<double>(p.f19());
  s += static_cast<double>(p.f20());
  s += static_cast<double>(p.f21());
  s += static_cast<double>(p.f22());
  s += static_cast<double>(p.f23().size());
  for (const float x : p.f24()) s += x;
  s += static_cast<double>(p.f25());
  s += static_cast<double>(p.f26());
  s += static_cast<double>(p.f27());
  s += static_cast<double>(p.f28());
  s += static_cast<double>(p.f29());
  s += static_cast<double>(p.f30());
  s += static_cast<double>(p.f31().size());
  for (const float x : p.f32()) s += x;
  s += static_cast<double>(p.f33());
  s += static_cast<double>(p.f34());
  s += static_cast<double>(p.f35());
  s += static_cast<double>(p.f36());
  s += static_cast<double>(p.f37());
  s += static_cast<double>(p.f38());
  s += static_cast<double>(p.f39().size());
  for (const float x : p.f40()) s += x;
  s += static_cast<double>(p.f41());
  s += static_cast<double>(p.f42());
  s += static_cast<double>(p.f43());
  s += static_cast<double>(p.f44());
  s += static_cast<double>(p.f45());
  s += static_cast<double>(p.f46());
  s += static_cast<double>(p.f47().size());
  for (const float x : p.f48()) s += x;
  s += static_cast<double>(p.f49());
  s += static_cast<double>(p.f50());
  s += static_cast<double>(p.f51());
  s += static_cast<double>(p.f52());
  s += static_cast<double>(p.f53());
  s += static_cast<double>(p.f54());
  s += static_cast<double>(p.f55().size());
  for (const float x : p.f56()) s += x;
  s += static_cast<double>(p.f57());
  s += static_cast<double>(p.f58());
  s += static_cast<double>(p.f59());
  s += static_cast<double>(p.f60());
  s += static_cast<double>(p.f61());
  s += static_cast<double>(p.f62());
  s += static_cast<double>(p.f63().size());
  for (const float x : p.f64()) s += x;
  s += static_cast<double>(p.f65());
  s += static_cast<double>(p.f66());
  s += static_cast<double>(p.f67());
  s += static_cast<double>(p.f68());
  s += static_cast<double>(p.f69());
  s += static_cast<double>(p.f70());
  s += static_cast<double>(p.f71().size());
  for (const float x : p.f72()) s += x;
  s += static_cast<double>(p.f73());
  s += static_cast<double>(p.f74());
  s += static_cast<double>(p.f75());
  s += static_cast<double>(p.f76());
  s += static_cast<double>(p.f77());
  s += static_cast<double>(p.f78());
  s += static_cast<double>(p.f79().size());
  for (const float x : p.f80()) s += x;
  s += static_cast<double>(p.f81());
  s += static_cast<double>(p.f82());
  s += static_cast<double>(p.f83());
  s += static_cast<double>(p.f84());
  s += static_cast<double>(p.f85());
  s += static_cast<double>(p.f86());
  s += static_cast<double>(p.f87().size());
  for (const float x : p.f88()) s += x;
  s += static_cast<double>(p.f89());
  s += static_cast<double>(p.f90());
  s += static_cast<double>(p.f91());
  s += static_cast<double>(p.f92());
  s += static_cast<double>(p.f93());
  s += static_cast<double>(p.f94());
  s += static_cast<double>(p.f95().size());
  for (const float x : p.f96()) s += x;
  s += static_cast<double>(p.f97());
  s += static_cast<double>(p.f98());
  s += static_cast<double>(p.f99());
  s += static_cast<double>(p.f100());
  return s;
}

}  // namespace ringcast::bench

#endif  // RINGCAST_BENCH_IDL_HUNDRED_FILL_H_
