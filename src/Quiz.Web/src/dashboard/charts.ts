// ECharts with only the parts the dashboard draws. Imported dynamically, by useChart.ts alone: the
// library is 535 KB of the dashboard's 685 KB, and the login screen draws nothing (issue 14).
import { init, use } from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { init };
