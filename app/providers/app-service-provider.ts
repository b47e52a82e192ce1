import { ServiceProvider } from 'herald'

/** The application's own wiring: listeners are discovered, so nothing is needed here yet. */
export default class AppServiceProvider extends ServiceProvider {
  override boot() {}
}
