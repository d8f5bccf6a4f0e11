set terminal pngcairo size 1200,480 font "sans,10"
set output "/work/main/bench/results/2026-11-30T161602Z-report/browser/plot.png"
set multiplot layout 1,2 title "browser path 2026-11-30T161802Z: 100 users, one room"
set grid
set logscale xy
set xrange [50:3000]
set xlabel "send rate msg/s (open loop)"
set ylabel "p99 latency ms"
set key top left
plot "/work/main/bench/results/2026-11-30T161602Z-report/browser/plot.dat" index 0 using 1:2 with linespoints lw 2 title "relay", "/work/main/bench/results/2026-11-30T161602Z-report/browser/plot.dat" index 1 using 1:2 with linespoints lw 2 title "topic", "/work/main/bench/results/2026-11-30T161602Z-report/browser/plot.dat" index 2 using 1:2 with linespoints lw 2 title "sio", 50 with lines dt 2 lc rgb "black" title "50 ms"
unset logscale
set logscale y
set style fill solid 0.6
set boxwidth 0.6
set xlabel ""
set ylabel "flat-out deliveries/s"
set xrange [-0.5:2.5]
set yrange [100:*]
plot "/work/main/bench/results/2026-11-30T161602Z-report/browser/flat.dat" using 1:3:xtic(2) with boxes notitle
unset multiplot
