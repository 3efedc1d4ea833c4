# V2: the period-averaged smoothness Lbar(P) for mix(lambda), one block per lambda.
set terminal pngcairo size 1200,520 noenhanced font ',11'
set output out
# one colour per lambda (Tableau 10)
cols = "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f"
set multiplot layout 1,2 title "V2: period averages at the run's step sizes (P = inf drawn at 300)"
set logscale x
set logscale y
set format y '%g'
set xtics ("1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, "inf" 300)
set xrange [0.9:400]
set xlabel "period P"
set grid lc rgb '#d0d0d0' lt 1 dt 3
set key outside below center horizontal height 1.5
set ylabel "Lbar(P) and the measured drift"
set key maxrows 2
set bmargin 7
stats data using 1 nooutput
nb = STATS_blocks - 1  # the trailing blank lines count as a block
plot for [i=0:nb-1] data index i using 1:2:3 with yerrorlines lw 2 pt 7 ps 0.7 lc rgb word(cols, i+1) title sprintf("lambda %s", word(lams, i+1)), \
     for [i=0:nb-1] data index i using 1:4 with lines dt 2 lc rgb word(cols, i+1) notitle, \
     for [i=0:nb-1] data index i using 1:8:9 with yerrorlines lw 1.5 dt 3 pt 6 ps 0.8 lc rgb word(cols, i+1) notitle, \
     NaN with lines lw 2 lc rgb "#606060" title "Lbar refined", \
     NaN with lines dt 2 lc rgb "#606060" title "Lbar statement", \
     NaN with linespoints lw 1.5 dt 3 pt 6 lc rgb "#606060" title "drift measured"
set ylabel "Sbar(P)"
set key maxrows 1
plot data index 0 using 1:6:7 with yerrorlines lw 2 pt 7 ps 0.7 lc rgb "#404040" title "Sbar (the same for every lambda)"
unset multiplot
