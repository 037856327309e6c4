import { onBeforeUnmount, onMounted, watch, type Ref, type WatchSource } from "vue";
import type { ECharts, EChartsCoreOption } from "echarts/core";
import { locale } from "../shared/i18n";

/**
 * A chart's life in its component: the chart library loads with the first chart shown (./charts),
 * the chart draws `option(narrow)` once it is there, again on a resize, when `sources` or the
 * language change, and is disposed with the component. `narrow` is true below 480 px, a phone.
 */
export function useChart(host: Ref<HTMLDivElement | undefined>, option: (narrow: boolean) => EChartsCoreOption, sources: WatchSource[]) {
  let chart: ECharts | null = null;
  let unmounted = false;
  const draw = () => chart?.setOption(option((host.value?.clientWidth ?? 800) < 480), true);
  const resize = () => { chart?.resize(); draw(); };
  onMounted(async () => {
    const { init } = await import("./charts");
    if (unmounted) return;
    chart = init(host.value!);
    draw();
    window.addEventListener("resize", resize);
  });
  onBeforeUnmount(() => {
    unmounted = true;
    window.removeEventListener("resize", resize);
    chart?.dispose();
  });
  watch([...sources, locale], draw);
}
