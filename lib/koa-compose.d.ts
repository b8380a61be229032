// koa-compose ships no types, and @types/koa-compose drags in all of Koa's; this is the one signature we use.
declare module 'koa-compose' {
  type Middleware<T> = (context: T, next: () => Promise<void>) => unknown;
  function compose<T>(middleware: Middleware<T>[]): (context: T, next?: () => Promise<void>) => Promise<void>;
  export default compose;
}
