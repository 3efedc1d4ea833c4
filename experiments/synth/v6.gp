# V6: T_Lion / T_Muon against lambda, one line per instance.
set terminal pngcairo size 1100,560 noenhanced font ',11'
set output out
# one colour per instance (Tableau 10)
cols = "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf"
set logscale y
set format y '%g'
do for [k=-3:3] { set ytics add (2*10**k, 5*10**k) }
set xlabel "lambda (0: Haar-orthogonal target, the spectral end; 1: random-sign target, the sign end)"
set ylabel "T_Lion / T_Muon (each tuned, no noise)"
set title "V6: do the objectives separate the geometries? (dashed: the thresholds 3 at lambda = 0 and 1/3 at lambda = 1)"
set grid lc rgb '#d0d0d0' lt 1 dt 3
set key outside right top vertical Left reverse
set xrange [-0.05:1.05]
set xtics 0, 0.25, 1
set autoscale yfix
set offsets 0, 0, graph 0.1, graph 0.1
stats data using 1 nooutput
nb = STATS_blocks - 1  # the trailing blank lines count as a block
plot for [i=0:nb-1] data index i using 1:2 with linespoints lw 2 pt 7 ps 1.0 lc rgb word(cols, i+1) title sprintf("instance %d", i+1), \
     3 with lines lw 1.5 dt (8,6) lc rgb "black" title "3 (needed at lambda = 0)", \
     1.0/3 with lines lw 1.5 dt (4,4) lc rgb "#606060" title "1/3 (needed at lambda = 1)"
