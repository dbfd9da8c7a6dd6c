// ringcast/ringcast.h: all a ringcast user includes.
//
//   #include "ringcast/ringcast.h"
//   #include "demo/chatter.ringcast.h"   // generated from your .proto
//
//   auto ctx  = ringcast::Context::Create();
//   auto node = ringcast::Node::Create(*ctx, "talker");
//   auto pub  = node->CreatePublisher(demo::topics::kChatter);
//   pub->Publish(proto);
//
// Context (context.h): domain, shared-memory directory, configuration.
// Node (node.h): registers itself and makes publishers and subscribers.
// Publisher<T>, Loan<T> (publisher.h); Subscriber<T>, Sample<T>
// (subscriber.h); Qos (qos.h); Executor (executor.h); untyped endpoints
// (raw.h); RINGCAST_RETURN_IF_ERROR and RINGCAST_ASSIGN_OR_RETURN.
#ifndef RINGCAST_CORE_RINGCAST_RINGCAST_H_
#define RINGCAST_CORE_RINGCAST_RINGCAST_H_

#include "ringcast/config.h"
#include "ringcast/context.h"
#include "ringcast/executor.h"
#include "ringcast/node.h"
#include "ringcast/publisher.h"
#include "ringcast/qos.h"
#include "ringcast/raw.h"
#include "ringcast/subscriber.h"
#include "ringcast/type_support.h"
#include "transport/status_macros.h"

#endif  // RINGCAST_CORE_RINGCAST_RINGCAST_H_
