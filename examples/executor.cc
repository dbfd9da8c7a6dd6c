// executor: one thread serving three topics and a timer. A "robot" process
// publishes its IMU at 200 Hz, velocity commands at 20 Hz and its status at
// 2 Hz; the "controller" hands every sample to a callback and prints a
// summary every second from a timer, all on one thread that sleeps while
// nothing happens.
//
//   build/examples/executor [--seconds N]
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/time/clock.h"
#include "examples/robot.ringcast.h"
#include "ringcast/ringcast.h"

namespace {

namespace msgs = ringcast::msgs::flat;

int Fail(const char* who, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", who, s.ToString().c_str());
  return 1;
}

int Robot(absl::Duration run) {
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return Fail("robot", ctx.status());
  auto node = ringcast::Node::Create(*ctx, "robot");
  if (!node.ok()) return Fail("robot", node.status());
  auto imu = node->CreatePublisher(examples::topics::kRobotImu);
  auto cmd = node->CreatePublisher(examples::topics::kRobotCmdVel);
  auto status = node->CreatePublisher(examples::topics::kRobotStatus);
  if (!imu.ok() || !cmd.ok() || !status.ok()) {
    return Fail("robot", !imu.ok() ? imu.status() : !cmd.ok() ? cmd.status() : status.status());
  }
  absl::SleepFor(absl::Milliseconds(300));  // let the controller subscribe
  const absl::Time start = absl::Now();
  for (int tick = 0; absl::Now() - start < run; ++tick) {  // 200 Hz
    ringcast::msgs::Imu m;
    m.mutable_linear_acceleration()->set_z(9.81);
    (void)imu->Publish(m);
    if (tick % 10 == 0) {
      ringcast::msgs::Twist t;
      t.mutable_linear()->set_x(0.5);
      (void)cmd->Publish(t);
    }
    if (tick % 100 == 0) {
      examples::Status s;
      s.set_battery(1.0f - static_cast<float>(tick) / 100000);
      s.set_mode("exploring");
      (void)status->Publish(s);
    }
    absl::SleepFor(start + absl::Milliseconds(5) * (tick + 1) - absl::Now());
  }
  return 0;
}

ringcast::Executor* g_executor = nullptr;
void OnSignal(int) { g_executor->Stop(); }  // Stop is async-signal-safe

int Controller(absl::Duration run) {
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return Fail("controller", ctx.status());
  auto node = ringcast::Node::Create(*ctx, "controller");
  if (!node.ok()) return Fail("controller", node.status());
  std::uint64_t imu_n = 0, cmd_n = 0, lost = 0;
  double speed = 0, battery = 0;
  auto imu = node->CreateSubscriber(examples::topics::kRobotImu,
                                    [&](ringcast::Sample<msgs::Imu> s) {
                                      ++imu_n;
                                      lost += s.lost_before();
                                    });
  auto cmd = node->CreateSubscriber(examples::topics::kRobotCmdVel,
                                    [&](ringcast::Sample<msgs::Twist> s) {
                                      ++cmd_n;
                                      speed = s->linear().x();
                                    });
  auto status = node->CreateSubscriber(examples::topics::kRobotStatus,
                                       [&](ringcast::Sample<examples::flat::Status> s) {
                                         battery = s->battery();
                                       });
  if (!imu.ok() || !cmd.ok() || !status.ok()) {
    return Fail("controller",
                !imu.ok() ? imu.status() : !cmd.ok() ? cmd.status() : status.status());
  }
  ringcast::Executor exec;
  exec.Add(*node);
  g_executor = &exec;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  (void)exec.AddTimer(absl::Seconds(1), [&] {
    std::printf("controller: imu %lu/s, cmd_vel %lu/s (speed %.1f m/s), battery %.0f%%, "
                "lost %lu\n", imu_n, cmd_n, speed, battery * 100, lost);
    std::fflush(stdout);
    imu_n = cmd_n = 0;
  });
  (void)exec.AddTimer(run, [&] { exec.Stop(); });
  if (absl::Status s = exec.Spin(); !s.ok()) return Fail("controller", s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 3;
  if (argc > 2 && std::strcmp(argv[1], "--seconds") == 0) seconds = std::atoi(argv[2]);
  const pid_t robot = ::fork();
  if (robot == 0) std::exit(Robot(absl::Seconds(seconds)));
  const int rc = Controller(absl::Seconds(seconds) + absl::Milliseconds(500));
  int status = 0;
  ::waitpid(robot, &status, 0);
  return rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
