# V6: T_Lion / T_Muon against lambda, one line per instance.
set terminal pngcairo size 900,520 noenhanced
set output out
set logscale y
set xlabel "lambda (0: Haar-orthogonal target, 1: random-sign target)"
set ylabel "T_Lion / T_Muon (tuned, deterministic)"
set title "V6: do the objectives separate the geometries? (dashed: the thresholds 3 and 1/3)"
set grid
set key outside right
stats data using 1 nooutput
nb = STATS_blocks - 1
plot for [i=0:nb-1] data index i using 1:2 with linespoints pt 7 title sprintf("instance %d", i+1), \
     3 with lines dt 2 lc rgb "black" notitle, 1.0/3 with lines dt 2 lc rgb "black" notitle
